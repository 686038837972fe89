// AsyncifySuspender on its own: the entry by export name, a waiting guest moved to a new
// instance (detach, restore, attach) that the rewind then runs on, and stepping (start,
// suspend, resume: waits without promises, for an owner that schedules guests itself).

import { wat2wasm, watSource } from '../bench/guests.js'
import { asyncifyModule } from './asyncify-module.js'
import { AsyncifySuspender, SUSPENDED } from './asyncify.js'
import { TransportError } from '../errors.js'

let mod: WebAssembly.Module
beforeAll(async () => {
  const plain = await wat2wasm(watSource('sleep.wat'), 'sleep.wat')
  mod = await WebAssembly.compile((await asyncifyModule(plain, { imports: ['env.sleep'] })) as Uint8Array<ArrayBuffer>)
})

type Sleep = (ms: number) => number | Promise<number | (() => number)>

function setup(sleep: Sleep): { s: AsyncifySuspender, instantiate: () => WebAssembly.Instance } {
  const s = new AsyncifySuspender()
  const imports = { env: { sleep: s.wrapImport((ms) => sleep(ms)) } }
  return { s, instantiate: () => new WebAssembly.Instance(mod, imports) }
}

const memoryOf = (i: WebAssembly.Instance): WebAssembly.Memory => i.exports.memory as WebAssembly.Memory

test('run(name) calls the export of the attached instance, through every wait', async () => {
  const { s, instantiate } = setup((ms) => Promise.resolve(ms * 10))
  s.attach(instantiate())
  expect(await s.run('ww_main')).toBe(130)
  expect(s.suspensions).toBe(3)
})

test('a waiting guest detached, restored into a new instance and attached resumes there', async () => {
  const instances: WebAssembly.Instance[] = []
  let current!: WebAssembly.Instance
  const { s, instantiate } = setup((ms) => new Promise<number>((resolve) => setImmediate(() => {
    // The guest waits: save its memory, drop the instance, wake it in a new one.
    const saved = new Uint8Array(memoryOf(current).buffer).slice()
    s.detach()
    current = instantiate()
    instances.push(current)
    new Uint8Array(memoryOf(current).buffer).set(saved)
    s.attach(current)
    resolve(ms * 10)
  })))
  current = instantiate()
  instances.push(current)
  s.attach(current)
  expect(await s.run('ww_main')).toBe(130)
  expect(instances).toHaveLength(4)
  expect(s.suspensions).toBe(3)
})

test('a wait that settles with a Resume gets its value from it as the guest resumes, on the instance attached then', async () => {
  let current!: WebAssembly.Instance
  const seen: WebAssembly.Instance[] = []
  const { s, instantiate } = setup((ms) => new Promise<number>((resolve) => setImmediate(() => resolve(ms))).then((n) => {
    // Settled: the guest moves (memory and all) before it runs again; the Resume sees where it went.
    const saved = new Uint8Array(memoryOf(current).buffer).slice()
    s.detach()
    current = instantiate()
    new Uint8Array(memoryOf(current).buffer).set(saved)
    s.attach(current)
    return () => { seen.push(current); return n * 10 }
  }))
  current = instantiate()
  s.attach(current)
  expect(await s.run('ww_main')).toBe(130)
  expect(new Set(seen).size).toBe(3) // a new instance each time, each the one attached at the resume
})

test('a Resume that throws ends the run with that error', async () => {
  const { s, instantiate } = setup(() => Promise.resolve(() => { throw new TransportError('ERR_CLOSED', 'gone') }))
  s.attach(instantiate())
  await expect(s.run('ww_main')).rejects.toMatchObject({ code: 'ERR_CLOSED' })
})

test('resuming with no instance attached fails with ERR_GUEST_ABI', async () => {
  const box: { s?: AsyncifySuspender } = {}
  const { s, instantiate } = setup(() => Promise.resolve(1).then((v) => { box.s!.detach(); return v }))
  box.s = s
  s.attach(instantiate())
  await expect(s.run('ww_main')).rejects.toMatchObject({ code: 'ERR_GUEST_ABI', message: expect.stringMatching(/no asyncify instance/) })
})

test('run(name) of a missing export, or with nothing attached, fails with ERR_GUEST_ABI', async () => {
  const { s, instantiate } = setup(() => 1)
  await expect(s.run('ww_main')).rejects.toMatchObject({ code: 'ERR_GUEST_ABI' })
  s.attach(instantiate())
  await expect(s.run('nope')).rejects.toMatchObject({ code: 'ERR_GUEST_ABI' })
  expect(await s.run('ww_main')).toBe(3)
})

test('a rejection during the wait ends the run with that error, never re-entering the guest', async () => {
  const { s, instantiate } = setup(() => Promise.reject(new TransportError('ERR_DENIED', 'no')))
  const inst = instantiate()
  s.attach(inst)
  let calls = 0
  const main = inst.exports.ww_main as () => number
  await expect(s.run(() => { calls++; return main() })).rejects.toMatchObject({ code: 'ERR_DENIED' })
  expect(calls).toBe(1)
})

test('memory grown between waits (its old buffer detached) is read afresh for the next unwind', async () => {
  const box: { inst?: WebAssembly.Instance } = {}
  const { s, instantiate } = setup((ms) => {
    memoryOf(box.inst!).grow(1)
    return Promise.resolve(ms * 10)
  })
  box.inst = instantiate()
  s.attach(box.inst)
  expect(await s.run('ww_main')).toBe(130)
  expect(memoryOf(box.inst).buffer.byteLength).toBe(4 * 65536)
})

test('the data header is validated before an unwind', async () => {
  const { s, instantiate } = setup(() => Promise.resolve(1))
  const inst = instantiate()
  new DataView(memoryOf(inst).buffer).setUint32(1024 + 4, 1 << 20, true) // end past memory
  s.attach(inst)
  await expect(s.run('ww_main')).rejects.toMatchObject({ code: 'ERR_GUEST_ABI', message: expect.stringMatching(/outside/) })
})

test('a wait the guest never unwound for (its function not instrumented) ends the run, and its later rejection is not unhandled', async () => {
  // Instrumented for nothing: the import's wait starts an unwind that ww_main ignores (as a
  // function on asyncify's removelist would), so it calls again while "unwinding".
  const plain = await wat2wasm(watSource('sleep.wat'), 'sleep.wat')
  const bare = await WebAssembly.compile((await asyncifyModule(plain, { imports: ['env.none'] })) as Uint8Array<ArrayBuffer>)
  const s = new AsyncifySuspender()
  const rejections: unknown[] = []
  const onUnhandled = (r: unknown): void => { rejections.push(r) }
  process.on('unhandledRejection', onUnhandled)
  try {
    const later = (): Promise<number> => new Promise((_, reject) => setTimeout(() => reject(new TransportError('ERR_CLOSED', 'the process was closed')), 5))
    s.attach(new WebAssembly.Instance(bare, { env: { sleep: s.wrapImport(later) } }))
    await expect(s.run('ww_main')).rejects.toMatchObject({ code: 'ERR_GUEST_ABI' })
    await new Promise((r) => setTimeout(r, 30)) // both waits have rejected by now
    expect(rejections).toEqual([])
  } finally {
    process.off('unhandledRejection', onUnhandled)
  }
})

describe('stepping', () => {
  // The guest sleeps 5, 1, 7 (sleep.wat) and returns the sum of what its waits gave.
  test('start() and resume() run a guest wait by wait, synchronously: suspend() in the import, the value given at resume()', () => {
    const asked: number[] = []
    const box: { s?: AsyncifySuspender } = {}
    const { s, instantiate } = setup((ms) => { asked.push(ms); return box.s!.suspend() })
    box.s = s
    s.attach(instantiate())
    let r = s.start('ww_main')
    while (r === SUSPENDED) r = s.resume(asked.at(-1)! * 10)
    expect(r).toBe(130)
    expect(asked).toEqual([5, 1, 7])
    expect(s.suspensions).toBe(3)
  })

  test('a stepped guest moved to a new instance between steps resumes there; a Resume runs on that instance', () => {
    const box: { s?: AsyncifySuspender } = {}
    const { s, instantiate } = setup(() => box.s!.suspend())
    box.s = s
    let current = instantiate()
    s.attach(current)
    let r = s.start('ww_main')
    const seen: WebAssembly.Instance[] = []
    while (r === SUSPENDED) {
      const saved = new Uint8Array(memoryOf(current).buffer).slice()
      s.detach()
      current = instantiate()
      new Uint8Array(memoryOf(current).buffer).set(saved)
      s.attach(current)
      const here = current
      r = s.resume(() => { seen.push(here); return 2 })
    }
    expect(r).toBe(6)
    expect(seen).toHaveLength(3)
    expect(new Set(seen).size).toBe(3)
  })

  test('a throwing Resume ends the step with its error, and the suspender can start again', () => {
    const box: { s?: AsyncifySuspender } = {}
    const { s, instantiate } = setup(() => box.s!.suspend())
    box.s = s
    s.attach(instantiate())
    expect(s.start('ww_main')).toBe(SUSPENDED)
    expect(() => s.resume(() => { throw new TransportError('ERR_CLOSED', 'gone') })).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
    // Nothing is left waiting: a resume now is refused, a new start runs from the top.
    expect(() => s.resume(1)).toThrow(expect.objectContaining({ code: 'ERR_GUEST_ABI' }))
    s.attach(instantiate())
    let r = s.start('ww_main')
    while (r === SUSPENDED) r = s.resume(1)
    expect(r).toBe(3)
  })

  test('resume() without a wait, and suspend() in a guest driven by run(), fail with ERR_GUEST_ABI', async () => {
    const box: { s?: AsyncifySuspender } = {}
    const { s, instantiate } = setup(() => box.s!.suspend())
    box.s = s
    s.attach(instantiate())
    expect(() => s.resume(1)).toThrow(expect.objectContaining({ code: 'ERR_GUEST_ABI' }))
    await expect(s.run('ww_main')).rejects.toMatchObject({ code: 'ERR_GUEST_ABI', message: expect.stringMatching(/stepped/) })
  })

  test('a stepped guest that waits on a promise instead fails with ERR_GUEST_ABI, and the promise\'s rejection is not unhandled', async () => {
    const { s, instantiate } = setup(() => Promise.reject(new TransportError('ERR_CLOSED', 'later')))
    s.attach(instantiate())
    const rejections: unknown[] = []
    const onUnhandled = (r: unknown): void => { rejections.push(r) }
    process.on('unhandledRejection', onUnhandled)
    try {
      expect(() => s.start('ww_main')).toThrow(expect.objectContaining({ code: 'ERR_GUEST_ABI' }))
      await new Promise((r) => setTimeout(r, 10))
      expect(rejections).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })
})

test('a module using memory.copy and memory.fill (as AssemblyScript emits) is instrumented with the default features', async () => {
  // Binaryen 132 split these out of BulkMemory (BulkMemoryOpt); without it asyncify aborted.
  const wasm = await wat2wasm(`(module
    (import "ww" "recv" (func $recv (param i32 i32) (result i32)))
    (memory (export "memory") 1)
    (func (export "run") (result i32)
      (memory.fill (i32.const 64) (i32.const 7) (i32.const 8))
      (memory.copy (i32.const 128) (i32.const 64) (i32.const 8))
      (drop (call $recv (i32.const 256) (i32.const 8)))
      (i32.load8_u (i32.const 135))))`, 'bulk.wat')
  const out = await asyncifyModule(wasm, { imports: ['ww.recv'] })
  const names = WebAssembly.Module.exports(new WebAssembly.Module(out as Uint8Array<ArrayBuffer>)).map((e) => e.name)
  expect(names).toEqual(expect.arrayContaining(['run', 'asyncify_start_unwind', 'asyncify_stop_rewind']))
})
