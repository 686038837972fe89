// Plain guest that serves an Echo as its bootstrap (see lib/serve-echo.ts).
export * from "../assembly/exports";
export { ww_test_exports, ww_test_counters_released, ww_test_imports, ww_test_callback } from "./lib/serve-echo";
import { serveEcho } from "./lib/serve-echo";

export function ww_main(): i32 {
  return serveEcho(false);
}
