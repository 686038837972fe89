// The flags a worker thread of ours starts with: the process's own (--experimental-*, a
// loader), but not --input-type. That one is only for string input (-e,
// stdin); a worker's script is a file, and Node refuses to start it with that flag:
// `node --input-type=module -e "…"` could not start a pool or the metering worker.
// Nor --expose-gc: a V8 flag of the whole process, which Node 20 refuses for a worker
// (ERR_WORKER_INVALID_EXEC_ARGV: `pnpm bench` of this package could not start a pool).
export function workerExecArgv(): string[] {
  return process.execArgv.filter((a) => !a.startsWith('--input-type') && a !== '--expose-gc')
}
