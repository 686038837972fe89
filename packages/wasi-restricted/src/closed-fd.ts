// What each preview1 function answers when handed an fd that is not open, measured by
// calling the real imports (not restated by hand): the README's closed-fd table is
// generated from this (scripts/readme-table.mjs) and a test keeps the two in sync.

import { errnoName } from './errno.js'
import { FD_ARGS, PREVIEW1_FUNCTIONS, type Preview1Function } from './functions.js'
import { MemorySink } from './io.js'
import { DEFAULT_POLICY, grant, type Policy } from './policy.js'
import { MemoryListener } from './sockets.js'
import { createWasi } from './wasi.js'

/** An fd number no process here has open. */
const CLOSED = 40
const OUT = 4096, IOV = 2048, STR = 1024, SUBS = 8192, EVENTS = 12288

/** Arguments of a call on `fd` (the second fd of two-fd calls is `fd` too); pointers are valid. */
function argsFor(fn: Preview1Function, fd: number): Array<number | bigint> {
  switch (fn) {
    case 'fd_advise': return [fd, 0n, 0n, 0]
    case 'fd_allocate': return [fd, 0n, 1n]
    case 'fd_fdstat_set_flags': return [fd, 0]
    case 'fd_fdstat_set_rights': return [fd, 0n, 0n]
    case 'fd_filestat_set_size': return [fd, 0n]
    case 'fd_filestat_set_times': return [fd, 0n, 0n, 0]
    case 'fd_pread': case 'fd_pwrite': return [fd, IOV, 1, 0n, OUT]
    case 'fd_prestat_dir_name': return [fd, OUT, 16]
    case 'fd_read': case 'fd_write': return [fd, IOV, 1, OUT]
    case 'fd_readdir': return [fd, OUT, 64, 0n, OUT + 128]
    case 'fd_renumber': return [fd, fd]
    case 'fd_seek': return [fd, 0n, 0, OUT]
    case 'fd_close': case 'fd_datasync': case 'fd_sync': return [fd]
    case 'fd_fdstat_get': case 'fd_filestat_get': case 'fd_prestat_get': case 'fd_tell': return [fd, OUT]
    case 'path_create_directory': case 'path_remove_directory': case 'path_unlink_file': return [fd, STR, 1]
    case 'path_filestat_get': return [fd, 0, STR, 1, OUT]
    case 'path_filestat_set_times': return [fd, 0, STR, 1, 0n, 0n, 0]
    case 'path_link': return [fd, 0, STR, 1, fd, STR + 8, 1]
    case 'path_open': return [fd, 0, STR, 1, 0, 0n, 0n, 0, OUT]
    case 'path_readlink': return [fd, STR, 1, OUT, 16, OUT + 64]
    case 'path_rename': return [fd, STR, 1, fd, STR + 8, 1]
    case 'path_symlink': return [STR, 1, fd, STR + 8, 1]
    case 'sock_accept': return [fd, 0, OUT]
    case 'sock_recv': return [fd, IOV, 1, 0, OUT, OUT + 8]
    case 'sock_send': return [fd, IOV, 1, 0, OUT]
    case 'sock_shutdown': return [fd, 2]
    default: throw new Error(`${fn} takes no fd`)
  }
}

/** The answer of `fn` on `fd` under `policy`: an errno name; for poll_oneoff, its event's. */
export function answerOn(policy: Policy, fn: Preview1Function | 'poll_oneoff', fd: number): string {
  const sink = new MemorySink()
  const wasi = createWasi(policy, {
    processId: 'probe', sinks: { stdout: sink, stderr: sink },
    ...(policy.stdin.kind === 'stream' ? { stdin: { read: () => null, canRead: () => true, readable: () => Promise.resolve() } } : {}),
    ...(policy.sockets !== null ? { sockets: [new MemoryListener()] } : {}),
  })
  const memory = new WebAssembly.Memory({ initial: 1 })
  wasi.attach(memory)
  const dv = new DataView(memory.buffer)
  new Uint8Array(memory.buffer).set(Buffer.from('x\0\0\0\0\0\0\0y'), STR)
  dv.setUint32(IOV, OUT + 256, true); dv.setUint32(IOV + 4, 4, true)
  const call = (f: Preview1Function, ...a: Array<number | bigint>): number => (wasi.imports[f] as unknown as (...x: unknown[]) => number)(...a)
  try {
    if (fn === 'poll_oneoff') {
      dv.setUint8(SUBS + 8, 2) // fd_write: fd 1 is writable
      dv.setUint32(SUBS + 16, fd, true)
      const r = call('poll_oneoff', SUBS, EVENTS, 1, OUT)
      return r !== 0 ? errnoName(r) : `event ${errnoName(dv.getUint16(EVENTS + 8, true))}`
    }
    return errnoName(call(fn, ...argsFor(fn, fd)))
  } finally { wasi.close() }
}

/** Every grant that widens an fd row, at once. */
export const ALL_FD_GRANTS: Policy = grant(DEFAULT_POLICY, { scratch: true, sockets: true, stdin: 'stream' })

/** The functions that take an fd (poll_oneoff through its subscriptions). */
export const FD_FUNCTIONS: readonly Preview1Function[] = PREVIEW1_FUNCTIONS.filter((fn) => FD_ARGS[fn].length > 0 || fn === 'poll_oneoff')

/**
 * The closed-fd table: per function taking an fd, its answer on a closed fd under the
 * default policy and under every grant, and on fd 1 (open: stdout) under the default —
 * where a row that does not cover stdio says ENOTCAPABLE.
 */
export function closedFdMarkdown(): string {
  const out = ['| preview1 function | closed fd, default policy | closed fd, scratch + sockets + stdin granted | fd 1 (open), default policy |', '|---|---|---|---|']
  for (const fn of FD_FUNCTIONS) {
    out.push(`| \`${fn}\` | ${answerOn(DEFAULT_POLICY, fn, CLOSED)} | ${answerOn(ALL_FD_GRANTS, fn, CLOSED)} | ${answerOn(DEFAULT_POLICY, fn, 1)} |`)
  }
  return out.join('\n') + '\n'
}
