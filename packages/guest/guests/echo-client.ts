// Plain guest (imports ww.* and env.abort only). Exit: ww_main returns 0 on success; a
// failed check aborts with its message (env.abort).
export * from "../assembly/exports";
import { runEchoFlow } from "./lib/echo-flow";

function quiet(line: string): void {}

export function ww_main(): i32 {
  return runEchoFlow(quiet);
}
