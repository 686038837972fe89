// The flags a worker thread of ours starts with: the process's own (--experimental-*, a
// loader, --expose-gc), but not --input-type. That one is only for string input (-e,
// stdin); a worker's script is a file, and Node refuses to start it with that flag:
// `node --input-type=module -e "…"` could not start a pool or the metering worker.
export function workerExecArgv(): string[] {
  return process.execArgv.filter((a) => !a.startsWith('--input-type'))
}
