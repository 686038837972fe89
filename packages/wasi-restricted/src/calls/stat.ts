// Layouts of the structs fd_*/path_* write (witx: fdstat, filestat, prestat, dirent) and
// the rights we report for each kind of fd.

import type { FdEntry } from '../fds.js'
import type { Node } from '../scratch/fs.js'
import type { GuestMemory } from '../memory.js'

export const FILETYPE = { UNKNOWN: 0, CHARACTER_DEVICE: 2, DIRECTORY: 3, REGULAR_FILE: 4, SOCKET_STREAM: 6, SYMBOLIC_LINK: 7 } as const
export const FDFLAGS = { APPEND: 1, DSYNC: 2, NONBLOCK: 4, RSYNC: 8, SYNC: 16 } as const

const R = (bit: number): bigint => 1n << BigInt(bit)
export const RIGHTS = {
  FD_READ: R(1), FD_SEEK: R(2), FD_TELL: R(5), FD_WRITE: R(6), POLL: R(27), SOCK_SHUTDOWN: R(28), SOCK_ACCEPT: R(29),
} as const
const ALL = R(30) - 1n
// Everything but read, write, seek, tell: those depend on the open mode / stream kind.
const FILE_COMMON = ALL & ~(RIGHTS.FD_READ | RIGHTS.FD_WRITE | RIGHTS.FD_SEEK | RIGHTS.FD_TELL | RIGHTS.SOCK_ACCEPT | RIGHTS.SOCK_SHUTDOWN)
const STREAM_COMMON = R(3) | R(21) | RIGHTS.POLL // set flags, filestat_get, poll

export function typeOfNode(n: Node): number {
  return n.kind === 'file' ? FILETYPE.REGULAR_FILE : n.kind === 'dir' ? FILETYPE.DIRECTORY : FILETYPE.SYMBOLIC_LINK
}

export function fdFiletype(e: FdEntry): number {
  switch (e.kind) {
    case 'stdin': case 'stdout': case 'stderr': return FILETYPE.CHARACTER_DEVICE
    case 'dir': return FILETYPE.DIRECTORY
    case 'file': return FILETYPE.REGULAR_FILE
    default: return FILETYPE.SOCKET_STREAM
  }
}

/** [base, inheriting]. Stdio lacks seek/tell, so libc's isatty() sees a terminal and line-buffers. */
export function rightsOf(e: FdEntry): [bigint, bigint] {
  switch (e.kind) {
    case 'stdin': return [RIGHTS.FD_READ | STREAM_COMMON, 0n]
    case 'stdout': case 'stderr': return [RIGHTS.FD_WRITE | STREAM_COMMON, 0n]
    case 'dir': return [ALL & ~(RIGHTS.FD_READ | RIGHTS.FD_WRITE | RIGHTS.FD_SEEK | RIGHTS.FD_TELL), ALL]
    case 'file': return [FILE_COMMON | RIGHTS.FD_SEEK | RIGHTS.FD_TELL | (e.read ? RIGHTS.FD_READ : 0n) | (e.write ? RIGHTS.FD_WRITE : 0n), 0n]
    case 'listener': return [RIGHTS.SOCK_ACCEPT | STREAM_COMMON, 0n]
    case 'conn': return [RIGHTS.FD_READ | RIGHTS.FD_WRITE | RIGHTS.SOCK_SHUTDOWN | STREAM_COMMON, 0n]
  }
}

export function fdFlags(e: FdEntry): number {
  return e.kind === 'file' || e.kind === 'conn' || e.kind === 'listener' ? e.flags : 0
}

export function writeFdstat(mem: GuestMemory, ptr: number, e: FdEntry): void {
  const p = mem.check(ptr, 24)
  const dv = mem.dv()
  const [base, inh] = rightsOf(e)
  new Uint8Array(dv.buffer, p, 24).fill(0)
  dv.setUint8(p, fdFiletype(e))
  dv.setUint16(p + 2, fdFlags(e), true)
  dv.setBigUint64(p + 8, base, true)
  dv.setBigUint64(p + 16, inh, true)
}

export interface Stat { ino: bigint; filetype: number; nlink: bigint; size: bigint; atim: bigint; mtim: bigint; ctim: bigint }

export function nodeStat(n: Node): Stat {
  const size = n.kind === 'file' ? n.size : n.kind === 'symlink' ? Buffer.byteLength(n.target) : n.entries.size
  return { ino: BigInt(n.ino), filetype: typeOfNode(n), nlink: BigInt(n.nlink), size: BigInt(size), atim: n.atim, mtim: n.mtim, ctim: n.ctim }
}

export function writeFilestat(mem: GuestMemory, ptr: number, s: Stat): void {
  const p = mem.check(ptr, 64)
  const dv = mem.dv()
  new Uint8Array(dv.buffer, p, 64).fill(0)
  dv.setBigUint64(p + 8, s.ino, true)
  dv.setUint8(p + 16, s.filetype)
  dv.setBigUint64(p + 24, s.nlink, true)
  dv.setBigUint64(p + 32, s.size, true)
  dv.setBigUint64(p + 40, s.atim, true)
  dv.setBigUint64(p + 48, s.mtim, true)
  dv.setBigUint64(p + 56, s.ctim, true)
}

export const FSTFLAGS = { ATIM: 1, ATIM_NOW: 2, MTIM: 4, MTIM_NOW: 8 } as const

/** Applies set_times flags to `n`; false when the flags are contradictory or unknown (EINVAL). */
export function setTimes(n: Node, atim: bigint, mtim: bigint, fst: number, now: bigint): boolean {
  if ((fst & ~15) !== 0 || ((fst & FSTFLAGS.ATIM) && (fst & FSTFLAGS.ATIM_NOW)) || ((fst & FSTFLAGS.MTIM) && (fst & FSTFLAGS.MTIM_NOW))) return false
  if (fst & FSTFLAGS.ATIM) n.atim = atim
  if (fst & FSTFLAGS.ATIM_NOW) n.atim = now
  if (fst & FSTFLAGS.MTIM) n.mtim = mtim
  if (fst & FSTFLAGS.MTIM_NOW) n.mtim = now
  return true
}
