import { Scheduler, type ProcModule } from './index.js'
import * as G from './bench/guests.js'
import { until } from '../test/until.js'

const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer)
let s: Scheduler
const mods = new Map<string, ProcModule>()
async function mod(src: string): Promise<ProcModule> {
  let m = mods.get(src)
  if (!m) mods.set(src, (m = await s.compile(await G.wat(src))))
  return m
}

beforeEach(() => { s = new Scheduler(); mods.clear() })
afterEach(() => s.close())

describe('lifecycle', () => {
  test('exit codes, traps and missing entry points are told apart', async () => {
    const [ma, mt, mn] = [await mod(G.EXIT_WITH_FIRST_BYTE), await mod(G.TRAP), await mod(`(module (func (export "other")))`)]
    const a = s.spawn(ma)
    const t = s.spawn(mt)
    const n = s.spawn(mn)
    expect(a.state).toBe('starting')
    await a.send(new Uint8Array([42]))
    expect(await a.wait()).toEqual({ kind: 'exited', code: 42 })
    expect(await t.wait()).toMatchObject({ kind: 'trapped', code: 'ERR_GUEST_TRAP' })
    expect(await n.wait()).toMatchObject({ kind: 'trapped', code: 'ERR_GUEST_ABI' })
    expect(a.state).toBe('exited')
  })

  test('wait is idempotent and concurrent; pids are unique and never reused', async () => {
    const m = await mod(G.EXIT_WITH_FIRST_BYTE)
    const hs = [s.spawn(m), s.spawn(m), s.spawn(m)]
    expect(new Set(hs.map((h) => h.pid)).size).toBe(3)
    const waits = [hs[0]!.wait(), hs[0]!.wait(), hs[0]!.wait()]
    for (const h of hs) await h.send(new Uint8Array([1]))
    const [x, y, z] = await Promise.all(waits)
    expect(x).toBe(y)
    expect(y).toBe(z)
    expect(await hs[0]!.wait()).toBe(x)
    expect(s.spawn(m).pid).toBeGreaterThan(Math.max(...hs.map((h) => h.pid)))
  })

  test('ps lists pid, parent, state, cpu, memory and message counts', async () => {
    const probe = s.spawnNative({ name: 'probe' })
    const echo = s.spawn(await mod(G.ECHO), { parent: probe, name: 'echo' })
    await probe.sendTo(echo, new Uint8Array([1, 2, 3]))
    const reply = await probe.receive()
    expect([...reply.bytes]).toEqual([1, 2, 3])
    expect(reply.from).toBe(echo.pid)
    const row = s.ps().find((r) => r.pid === echo.pid)!
    // One handle: its parent's mailbox, which is also the way back to the probe that wrote.
    expect(row).toMatchObject({ parent: probe.pid, name: 'echo', kind: 'wasm', state: 'waiting', sent: 1, received: 1, handles: 1, memoryBytes: 65536 })
    expect(row.fuel).toBeGreaterThan(0)
    expect(row.slices).toBeGreaterThanOrEqual(1)
    await probe.sendTo(echo, new Uint8Array(0))
    expect(await echo.wait()).toEqual({ kind: 'exited', code: 1 })
    expect(s.ps().map((r) => r.pid)).toEqual([probe.pid])
  })

  test('kill cascades to descendants; a parent that exits takes its children', async () => {
    const spin = await mod(G.SPIN)
    const root = s.spawn(await mod(G.EXIT_WITH_FIRST_BYTE))
    const child = s.spawn(spin, { parent: root })
    const grandchild = s.spawn(spin, { parent: child })
    expect(root.children()).toEqual([child.pid])
    await root.send(new Uint8Array([0]))
    expect(await root.wait()).toEqual({ kind: 'exited', code: 0 })
    expect(await child.wait()).toEqual({ kind: 'killed', by: { kind: 'parent', pid: root.pid } })
    expect(await grandchild.wait()).toEqual({ kind: 'killed', by: { kind: 'parent', pid: child.pid } })

    const a = s.spawn(spin)
    const b = s.spawn(spin, { parent: a })
    expect(await a.kill()).toEqual({ kind: 'killed', by: { kind: 'host' } })
    expect(await b.wait()).toMatchObject({ kind: 'killed', by: { kind: 'parent' } })
  })

  test('compile takes an AbortSignal', async () => {
    const ac = new AbortController()
    ac.abort()
    await expect(s.compile(await G.wat(G.SPIN), { signal: ac.signal })).rejects.toMatchObject({ code: 'ERR_ABORTED' })
  })

  test('the process limit is enforced with a typed error', async () => {
    const small = new Scheduler({ maxProcesses: 2 })
    const m = await small.compile(await G.wat(G.SPIN))
    small.spawn(m)
    small.spawn(m)
    expect(() => small.spawn(m)).toThrow(expect.objectContaining({ code: 'ERR_PROC_LIMIT' }))
    await small.close()
    expect(() => small.spawn(m)).toThrow(expect.objectContaining({ code: 'ERR_SCHEDULER_CLOSED' }))
  })
})

describe('limits', () => {
  test('a runaway loop is killed at its deadline; so is one that cannot yield', async () => {
    const spin = await mod(G.SPIN), noYield = await mod(G.SPIN_NO_YIELD)
    const a = s.spawn(spin, { deadlineMs: 50 })
    const b = s.spawn(noYield, { deadlineMs: 50 })
    // Both loop forever: only the deadline ends them (how late it is: proc.metering's bench).
    expect(await a.wait()).toMatchObject({ kind: 'limit', which: 'time', detail: 'deadline of 50 ms' })
    expect(await b.wait()).toMatchObject({ kind: 'limit', which: 'time', detail: 'deadline of 50 ms' })
  })

  test('a CPU budget in fuel ends the process with limit(fuel)', async () => {
    const h = s.spawn(await mod(G.SPIN), { fuel: 1_000_000 })
    expect(await h.wait()).toMatchObject({ kind: 'limit', which: 'fuel' })
    expect(h.info().fuel).toBeGreaterThanOrEqual(1_000_000)
  })

  test('memory.grow past the cap fails (default) or ends the process (kill policy)', async () => {
    const m = await mod(G.MEMBOMB)
    const failing = s.spawn(m, { memoryPages: 8 })
    const killed = s.spawn(m, { memoryPages: 8, onMemoryLimit: 'kill' })
    expect(await failing.wait()).toEqual({ kind: 'exited', code: 7 })
    expect(await killed.wait()).toMatchObject({ kind: 'limit', which: 'memory' })
  })

  test('mailboxes are bounded: trySend fails when full, send waits for room', async () => {
    const h = s.spawn(await mod(G.EXIT_WITH_FIRST_BYTE), { mailbox: 2 })
    h.trySend(new Uint8Array([5]))
    h.trySend(new Uint8Array([6]))
    expect(() => h.trySend(new Uint8Array([7]))).toThrow(expect.objectContaining({ code: 'ERR_MAILBOX_FULL' }))
    const late = h.send(new Uint8Array([8]))
    expect(await h.wait()).toEqual({ kind: 'exited', code: 5 })
    await late // room was made by the receive, then the process ended
    await expect(h.send(new Uint8Array([1]))).rejects.toMatchObject({ code: 'ERR_PROC_EXITED' })
  })

  test('a guest sender waits on a full mailbox (backpressure), then delivers in order', async () => {
    const probe = s.spawnNative({ mailbox: 1 })
    const echo = s.spawn(await mod(G.ECHO), { parent: probe })
    for (let i = 1; i <= 5; i++) await probe.sendTo(echo, new Uint8Array([i]))
    await until(() => echo.state === 'waiting')
    // Blocked on its second send, not waiting for more input: the probe's mailbox holds one.
    expect(echo.info().sent).toBe(2)
    expect(probe.info().mailbox).toBe(1)
    const got: number[] = []
    for (let i = 0; i < 5; i++) got.push((await probe.receive()).bytes[0]!)
    expect(got).toEqual([1, 2, 3, 4, 5])
  })

  test('a guest with an out-of-bounds recv buffer dies alone with ERR_GUEST_MEMORY', async () => {
    const bad = s.spawn(await mod(`(module ${G.PRELUDE} (func (export "ww_main") (drop (call $recv (i32.const 65530) (i32.const 100)))))`))
    const good = s.spawn(await mod(G.EXIT_WITH_FIRST_BYTE))
    await good.send(new Uint8Array([3]))
    expect(await bad.wait()).toMatchObject({ kind: 'trapped', code: 'ERR_GUEST_MEMORY' })
    expect(await good.wait()).toEqual({ kind: 'exited', code: 3 })
  })
})

describe('monitors and links', () => {
  test('a monitor learns the reason; a guest watcher sees the kind, and the sender as the handle it holds (or none)', async () => {
    const host = s.spawnNative()
    const watcher = s.spawn(await mod(G.WATCHER))
    const holder = s.spawn(await mod(G.WATCHER))
    const victim = s.spawn(await mod(G.SPIN))
    await holder.send(new Uint8Array(1), { cap: victim }) // its handle 0: the victim's mailbox
    for (const w of [watcher, holder, host]) w.monitor(victim)
    await victim.kill()
    const down = await host.receive()
    expect(down).toMatchObject({ kind: 'down', from: victim.pid, status: { kind: 'killed' } })
    expect(JSON.parse(down.text())).toMatchObject({ kind: 'killed' })
    // WATCHER exits with kind * 1000 + 1 + sender: a notice grants no handle to a watcher
    // that held none (sender -1), and names the one a holder has (0).
    expect(await watcher.wait()).toEqual({ kind: 'exited', code: 1000 })
    expect(await holder.wait()).toEqual({ kind: 'exited', code: 1001 })
  })

  test('links kill the other side on a crash, or tell it when it traps exits', async () => {
    const spin = await mod(G.SPIN)
    const a = s.spawn(spin)
    const b = s.spawn(spin)
    a.link(b)
    const trapper = s.spawnNative({ trapExits: true })
    trapper.link(b)
    await a.kill()
    expect(await b.wait()).toEqual({ kind: 'killed', by: { kind: 'link', pid: a.pid } })
    const note = await trapper.receive()
    expect(note).toMatchObject({ kind: 'exit', from: b.pid })
    expect(trapper.state).toBe('running')
  })
})

describe('custody', () => {
  test('one copy out of the sender; every receiver shares the bytes; later writes by the sender change nothing', async () => {
    const a = s.spawnNative()
    const b = s.spawnNative()
    const c = s.spawnNative()
    const reader = s.spawn(await mod(G.EXIT_WITH_FIRST_BYTE))
    const sender = s.spawn(await mod(G.CUSTODY_SENDER))
    await sender.send(u32(0), { cap: a })
    const m = await a.receive()
    expect(m.text()).toBe('hello custody')
    // Forward the same Message: no new copy.
    await a.sendTo(b, m)
    await a.sendTo(c, m)
    const mb = await b.receive()
    const mc = await c.receive()
    expect(mb).toBe(m)
    expect(mb.bytes.buffer).toBe(m.bytes.buffer)
    expect(mc.bytes.buffer).toBe(m.bytes.buffer)
    // Once it waits in its second recv, the sender has overwritten its bytes.
    await until(() => sender.state === 'waiting')
    expect(m.text()).toBe('hello custody')
    // A guest receiver gets it written into its own memory ('h' = 104).
    await a.sendTo(reader, m)
    expect(await reader.wait()).toEqual({ kind: 'exited', code: 104 })
    await sender.send(u32(0))
    expect(await sender.wait()).toEqual({ kind: 'exited', code: 0 })
  })

  test("with messageMemory 'shared' a guest's bytes are copied once into shared memory; the sender's later writes change nothing", async () => {
    await using shared = new Scheduler({ messageMemory: 'shared' })
    const a = shared.spawnNative()
    const sender = shared.spawn(await shared.compile(await G.wat(G.CUSTODY_SENDER)))
    await sender.send(u32(0), { cap: a })
    const m = await a.receive()
    expect(Object.prototype.toString.call(m.bytes.buffer)).toBe('[object SharedArrayBuffer]')
    while (sender.state !== 'waiting') await new Promise((r) => setTimeout(r, 1))
    expect(m.text()).toBe('hello custody') // CUSTODY_SENDER has overwritten its copy with 'X' by now
    expect(() => new Scheduler({ messageMemory: 'stack' as 'heap' })).toThrow(RangeError)
  })
})

describe('pids', () => {
  test('a scheduler hands out pids from `first` every `step` (how a pool keeps them unique)', async () => {
    await using strided = new Scheduler({ pids: { first: 3, step: 4 } })
    const m = await strided.compile(await G.wat(G.TRAP))
    const pids = [strided.spawnNative().pid, strided.spawn(m).pid, strided.spawnNative().pid]
    expect(pids).toEqual([3, 7, 11])
    expect(() => new Scheduler({ pids: { first: 0, step: 1 } })).toThrow(RangeError)
    expect(() => new Scheduler({ pids: { first: 1, step: 1.5 } })).toThrow(RangeError)
  })
})
