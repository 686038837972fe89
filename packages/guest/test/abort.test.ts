// A WASI guest's abort under asyncify: the shim's abort is not instrumented
// (scripts/build.mjs, WASI_NEVER_UNWIND), so its fd_write must not be able to strand the
// process. It exits 255 with its message; with a full stderr the message is lost, the exit
// is not, and the write's wait, rejected when the process is closed, is nobody's
// unhandled rejection.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { AsyncifySuspender } from '@ww/transport'
import { createWasi, DEFAULT_POLICY, MemorySink, ProcessExit } from '@ww/wasi-restricted'

const WASM = fileURLToPath(new URL('../build/wasi-abort.wasm', import.meta.url))

async function run(stderr: MemorySink) {
  const suspender = new AsyncifySuspender() // the asyncify build even on Node 24: that is what is under test
  const stdout = new MemorySink()
  const wasi = createWasi(DEFAULT_POLICY, { processId: 'aborts', sinks: { stdout, stderr }, suspend: (fn) => suspender.wrapImport(fn) })
  const instance = await WebAssembly.instantiate(await WebAssembly.compile(readFileSync(WASM)), {
    wasi_snapshot_preview1: wasi.imports as unknown as WebAssembly.ModuleImports,
  })
  wasi.attach(instance)
  suspender.attach(instance)
  const end = await suspender.run('ww_main').then(() => undefined, (e: unknown) => e)
  return { wasi, stdout, end }
}

test('an abort prints its message on stderr and exits 255', async () => {
  const stderr = new MemorySink()
  const { wasi, stdout, end } = await run(stderr)
  expect(stdout.text()).toBe('about to abort\n')
  expect(end).toBeInstanceOf(ProcessExit)
  expect((end as ProcessExit).exitCode).toBe(255)
  expect(stderr.text()).toMatch(/^abort: Index out of range in ~lib\/staticarray\.ts/)
  wasi.close()
})

test('with stderr full the abort still exits 255, and closing the process leaves no unhandled rejection', async () => {
  const stderr = new MemorySink(1)
  stderr.write({ processId: 'spawner', fd: 2, bytes: new Uint8Array(1) }) // full, and nobody drains it
  const rejections: unknown[] = []
  const onUnhandled = (r: unknown): void => { rejections.push(r) }
  process.on('unhandledRejection', onUnhandled)
  try {
    const { wasi, end } = await run(stderr)
    expect((end as ProcessExit).exitCode).toBe(255)
    expect(stderr.records).toHaveLength(1) // the message was refused
    wasi.close() // rejects the write's wait
    await new Promise((r) => setTimeout(r, 20))
    expect(rejections).toEqual([])
  } finally {
    process.off('unhandledRejection', onUnhandled)
  }
})
