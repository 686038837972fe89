// Hibernation: a process parked in a wait (its stack saved in its own memory by
// asyncify) is fully described by its linear memory and its mutable globals. We copy
// the non-zero 4 KiB chunks and the globals into host buffers and drop the instance, so
// its memory and V8's large virtual reservation go away; the next time it must run we
// instantiate the module again (its start function was moved out by the pass, so
// nothing re-runs), write the state back, and the asyncify rewind continues the wait.

import type { MeterInfo } from '../meter/pass.js'
import type { Proc } from './proc.js'

const CHUNK = 4096

export interface Snapshot {
  readonly pages: number
  /** Chunk indices (of CHUNK bytes) that were not all zero, and their bytes packed. */
  readonly index: Uint32Array
  readonly data: Uint8Array
  readonly globals: (number | bigint)[]
  readonly fuel: number
  /** Bytes held for this snapshot. */
  readonly bytes: number
}

function isZero(words: Uint32Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (words[i] !== 0) return false
  return true
}

export function snapshot(p: Proc, meter: MeterInfo): Snapshot {
  const buf = p.memory!.buffer
  const words = new Uint32Array(buf)
  const chunks = buf.byteLength / CHUNK
  const W = CHUNK / 4
  const keep: number[] = []
  for (let c = 0; c < chunks; c++) if (!isZero(words, c * W, (c + 1) * W)) keep.push(c)
  const data = new Uint8Array(keep.length * CHUNK)
  const bytes = new Uint8Array(buf)
  keep.forEach((c, i) => data.set(bytes.subarray(c * CHUNK, (c + 1) * CHUNK), i * CHUNK))
  const x = p.instance!.exports
  const globals = meter.globals.map((g) => (x[g] as WebAssembly.Global).value as number | bigint)
  return { pages: buf.byteLength / 65536, index: Uint32Array.from(keep), data, globals, fuel: p.fuel!.value as number, bytes: data.byteLength + keep.length * 4 + globals.length * 8 }
}

/** Writes `s` into a fresh instance of the same module. */
export function restore(inst: WebAssembly.Instance, s: Snapshot, meter: MeterInfo): void {
  const x = inst.exports
  const mem = x.memory as WebAssembly.Memory
  const have = mem.buffer.byteLength / 65536
  if (s.pages > have) mem.grow(s.pages - have)
  const words = new Uint32Array(mem.buffer)
  const bytes = new Uint8Array(mem.buffer)
  const W = CHUNK / 4
  // Data segments wrote the module's initial bytes: clear what the guest had cleared
  // (reading an untouched page does not commit it).
  let k = 0
  const chunks = mem.buffer.byteLength / CHUNK
  for (let c = 0; c < chunks; c++) {
    if (k < s.index.length && s.index[k] === c) {
      bytes.set(s.data.subarray(k * CHUNK, (k + 1) * CHUNK), c * CHUNK)
      k++
    } else if (!isZero(words, c * W, (c + 1) * W)) {
      bytes.fill(0, c * CHUNK, (c + 1) * CHUNK)
    }
  }
  meter.globals.forEach((g, i) => { (x[g] as WebAssembly.Global).value = s.globals[i]! })
  ;(x.ww_fuel as WebAssembly.Global).value = s.fuel
}
