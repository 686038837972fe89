// Our worker threads start in a process run as `node --input-type=module -e "…"` (as
// `ww demo` and the benches start children): they drop --input-type from the flags they
// inherit, which Node refuses for a file. Before, a pool failed to start there with
// ERR_INPUT_TYPE_NOT_ALLOWED and the metering pass fell back to the main thread.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url))
const SCRIPT = `
  const { WorkerPool, warmInstrumentation } = await import(${JSON.stringify(DIST)})
  const pool = await WorkerPool.start({ workers: 1 })
  await pool.close()
  console.log('pool started and closed; metering worker warm:', await warmInstrumentation())
`

test('a worker pool and the metering worker start under --input-type=module', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', SCRIPT])
  expect(stdout).toBe('pool started and closed; metering worker warm: true\n')
}, 60_000)
