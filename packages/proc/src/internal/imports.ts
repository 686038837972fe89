// The imports a metered process gets: `ww_meter` (fuel, memory cap) and `ww_proc`
// (identity and messaging). Pointers and lengths are i32 read as unsigned.

import { Message } from '../message.js'
import { Proc, Termination } from './proc.js'

/** What the imports need from the scheduler. */
export interface ImportHost {
  outOfFuel(p: Proc): number | Promise<number>
  send(p: Proc, pid: number, msg: Message): number | Promise<number>
  recv(p: Proc, ptr: number, cap: number): number | Promise<number>
  /** Where a guest's message bytes go (default: a heap buffer of their own). */
  readonly messageAlloc?: ((n: number) => Uint8Array) | undefined
}

export const KIND_CODES = { user: 0, down: 1, exit: 2 } as const

/** `[ptr, ptr+len)` of p's memory, or the process ends (ERR_GUEST_MEMORY). */
export function guestBytes(p: Proc, ptr: number, len: number): Uint8Array {
  const mem = p.memory
  if (mem === undefined) throw new Termination({ kind: 'trapped', code: 'ERR_GUEST_ABI', reason: 'messaging needs an exported memory' })
  const start = ptr >>> 0
  const n = len >>> 0
  if (start + n > mem.buffer.byteLength) {
    throw new Termination({ kind: 'trapped', code: 'ERR_GUEST_MEMORY', reason: `[${start}, ${start + n}) is outside memory (${mem.buffer.byteLength} bytes)` })
  }
  return new Uint8Array(mem.buffer, start, n)
}

export function buildImports(p: Proc, host: ImportHost, extra: WebAssembly.Imports | undefined): WebAssembly.Imports {
  const s = p.suspender!
  const imports: WebAssembly.Imports = {
    ...extra,
    ww_meter: {
      out_of_fuel: s.wrapImport(() => host.outOfFuel(p)),
      mem_cap_pages: new WebAssembly.Global({ value: 'i32', mutable: false }, p.limits.memoryPages),
      grow_denied: (delta: number): number => {
        if (p.limits.onMemoryLimit === 'fail') return -1
        throw new Termination({ kind: 'limit', which: 'memory', detail: `grow by ${delta >>> 0} pages over the cap of ${p.limits.memoryPages}` })
      },
    },
    ww_proc: {
      self: (): number => p.pid,
      // The one copy: out of the sender's memory, during this call, into a host buffer.
      send: s.wrapImport((pid, ptr, len) => host.send(p, pid!, Message.copyOf(guestBytes(p, ptr!, len!), p.pid, host.messageAlloc))),
      recv: s.wrapImport((ptr, cap) => host.recv(p, ptr!, cap!)),
      sender: (): number => p.lastFrom,
      kind: (): number => p.lastKind,
      exit: (code: number): never => { throw new Termination({ kind: 'exited', code: code | 0 }) },
    },
  }
  return imports
}

/** The message into `[ptr, ptr+cap)`: its length, or -length when it does not fit. */
export function deliver(p: Proc, ptr: number, cap: number): number | undefined {
  const target = guestBytes(p, ptr, cap) // checked even when nothing is queued
  const m = p.mailbox.peek()
  if (m === undefined) return undefined
  if (m.byteLength > target.byteLength) return -m.byteLength
  m.copyTo(target)
  p.mailbox.take()
  p.lastFrom = m.from
  p.lastKind = KIND_CODES[m.kind]
  return m.byteLength
}
