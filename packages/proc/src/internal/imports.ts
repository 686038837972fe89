// The imports a metered process gets: `ww_meter` (fuel, memory cap) and `ww_proc`
// (identity and messaging). Pointers and lengths are i32 read as unsigned.
//
// Messaging goes through capabilities, not pids: `send` takes a handle in the sender's
// own table (handles.ts). A process starts with a handle to its parent's mailbox and
// gets one for each child; others come with messages (`send_cap` passes one on, and a
// message's sender is reachable by its receiver: the return address it chose to give).

import { Message } from '../message.js'
import { PROC_ERRNO } from './handles.js'
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
  const buffer = mem.buffer // one read: the getter is a call into the engine, on every message
  if (start + n > buffer.byteLength) {
    throw new Termination({ kind: 'trapped', code: 'ERR_GUEST_MEMORY', reason: `[${start}, ${start + n}) is outside memory (${buffer.byteLength} bytes)` })
  }
  return new Uint8Array(buffer, start, n)
}

export function buildImports(p: Proc, host: ImportHost, extra: WebAssembly.Imports | undefined): WebAssembly.Imports {
  const s = p.suspender!
  const imports: WebAssembly.Imports = {
    ...extra,
    ww_meter: {
      // It may suspend only under JSPI or where metering came before asyncify (fuelYields).
      // Otherwise (a module asyncified by its author) the checks sit outside asyncify's own
      // code and also run while a rewind replays the stack: wrapped, such a call would be
      // taken for the import that unwound, and the rewind would end there.
      out_of_fuel: s.kind === 'jspi' || p.meter?.fuelYields === true ? s.wrapImport(() => host.outOfFuel(p)) : (): number => host.outOfFuel(p) as number,
      mem_cap_pages: new WebAssembly.Global({ value: 'i32', mutable: false }, p.limits.memoryPages),
      grow_denied: (delta: number): number => {
        if (p.limits.onMemoryLimit === 'fail') return -1
        throw new Termination({ kind: 'limit', which: 'memory', detail: `grow by ${delta >>> 0} pages over the cap of ${p.limits.memoryPages}` })
      },
    },
    ww_proc: {
      self: (): number => p.pid,
      // The one copy: out of the sender's memory, during this call, into a host buffer.
      send: s.wrapImport((h, ptr, len) => {
        const to = p.handles.target(h!)
        if (to === undefined) return denied(p, 'send')
        return host.send(p, to, Message.copyOf(guestBytes(p, ptr!, len!), p.pid, host.messageAlloc))
      }),
      send_cap: s.wrapImport((h, ptr, len, c) => {
        const to = p.handles.target(h!)
        const cap = p.handles.target(c!)
        if (to === undefined || cap === undefined) return denied(p, 'send_cap')
        return host.send(p, to, Message.copyOf(guestBytes(p, ptr!, len!), p.pid, host.messageAlloc, cap))
      }),
      recv: s.wrapImport((ptr, cap) => host.recv(p, ptr!, cap!)),
      // A user message's sender gave its receiver a way back; a notice grants nothing (its
      // sender has ended), but names the handle already held for it, if any.
      sender: (): number => {
        const from = p.lastFrom
        if (from === 0) return -1
        if (p.lastKind !== KIND_CODES.user) return p.handles.find(from) ?? -1
        return p.handles.grant(from)
      },
      kind: (): number => p.lastKind,
      cap: (): number => (p.lastCap === 0 ? -1 : p.handles.grant(p.lastCap)),
      parent: (): number => (p.parent === undefined ? -1 : (p.handles.find(p.parent.pid) ?? -1)),
      drop: (h: number): number => (p.handles.drop(h) ? 0 : denied(p, 'drop')),
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
  p.lastCap = m.cap
  return m.byteLength
}

/** A call refused for want of a capability: counted (ps `denials`), answered NOT_CAPABLE. */
function denied(p: Proc, fn: string): number {
  const d = (p.denials ??= {})
  const key = `ww_proc.${fn}`
  d[key] = (d[key] ?? 0) + 1
  return PROC_ERRNO.NOT_CAPABLE
}
