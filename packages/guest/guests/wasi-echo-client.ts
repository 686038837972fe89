// WASI guest (through @assemblyscript/wasi-shim): the echo-client flow, printing each step
// to stdout with fd_write. Entry is ww_main, as for plain guests (no _start, so a WASI
// host can `initialize` it); abort prints to stderr and exits 255 via proc_exit.
export * from "../assembly/exports";
import { runEchoFlow } from "./lib/echo-flow";

function print(line: string): void {
  console.log(line);
}

export function ww_main(): i32 {
  return runEchoFlow(print);
}
