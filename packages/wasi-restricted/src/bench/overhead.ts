// wasi.overhead.<fn>: per-call cost, from a wasm loop, of clock_time_get, random_get (32 B)
// and fd_write (64 B to a sink) through our policy layer vs node:wasi (unrestricted, its
// stdout on /dev/null), interleaved in one process. Target: within 2× of node:wasi.

import { closeSync, openSync } from 'node:fs'
import { WASI } from 'node:wasi'
import { measure, report } from '@ww/bench-kit'
import { createWasi, DEFAULT_POLICY, type OutputSink } from '../index.js'

// One export per syscall, each calling it `n` times. The iovec at 0 points at 64 bytes at 64.
const WAT = `(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "\\40\\00\\00\\00\\40\\00\\00\\00")
  (func (export "_initialize"))
  (func (export "clock") (param $n i32)
    (loop $l (drop (call $clock (i32.const 1) (i64.const 0) (i32.const 16)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "random") (param $n i32)
    (loop $l (drop (call $random (i32.const 256) (i32.const 32)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "write") (param $n i32)
    (loop $l (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 24)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
)`

type Loop = (n: number) => void
interface Loops { clock: Loop; random: Loop; write: Loop }

async function module(): Promise<WebAssembly.Module> {
  const wabt = await (await import('wabt')).default()
  const m = wabt.parseWat('overhead.wat', WAT)
  try { return await WebAssembly.compile(m.toBinary({}).buffer as BufferSource) } finally { m.destroy() }
}

function loops(instance: WebAssembly.Instance): Loops {
  const e = instance.exports as unknown as Loops
  return { clock: e.clock, random: e.random, write: e.write }
}

export async function overhead(iterations = 200_000, runs = 7): Promise<void> {
  const mod = await module()

  // Ours: the default policy, stdout to a sink that keeps nothing (the cost of a real
  // sink's storage is the spawner's, not this layer's).
  let sunk = 0
  const sink: OutputSink = { write: (r) => { sunk += r.bytes.length; return true }, writable: () => Promise.resolve() }
  const ours = createWasi(DEFAULT_POLICY, { processId: 'bench', sinks: { stdout: sink, stderr: sink } })
  const oursInstance = await WebAssembly.instantiate(mod, { wasi_snapshot_preview1: ours.imports as unknown as WebAssembly.ModuleImports })
  ours.attach(oursInstance)

  const devNull = openSync('/dev/null', 'w')
  const node = new WASI({ version: 'preview1', stdout: devNull, stderr: devNull })
  const nodeInstance = await WebAssembly.instantiate(mod, node.getImportObject() as WebAssembly.Imports)
  node.initialize(nodeInstance)

  const a = loops(oursInstance), b = loops(nodeInstance)
  const cases = (['clock', 'random', 'write'] as const).flatMap((k) => [
    { name: `ours.${k}`, fn: (n: number) => a[k](n) },
    { name: `node.${k}`, fn: (n: number) => b[k](n) },
  ])
  const s = await measure(cases, { iterations, runs })
  closeSync(devNull)
  if (sunk === 0) throw new Error('fd_write reached no sink')

  const names = { clock: 'clock_time_get', random: 'random_get', write: 'fd_write' } as const
  const params = { clock: { clockId: 'monotonic' }, random: { bytes: 32 }, write: { bytes: 64, sink: 'in-memory (ours) vs /dev/null (node:wasi)' } } as const
  for (const k of ['clock', 'random', 'write'] as const) {
    report({
      name: `wasi.overhead.${names[k]}`, unit: 'ns/op', samples: s.get(`ours.${k}`)!,
      baseline: { name: 'node:wasi (unrestricted)', samples: s.get(`node.${k}`)! },
      params: { iterations, policy: 'DEFAULT_POLICY', ...params[k] },
    })
  }
}
