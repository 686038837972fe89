// Random arguments to every import, under a policy granting everything: the layer must
// answer with an errno (or ProcessExit for proc_exit), never throw anything else into the
// host (a RangeError from a view would surface as WasiInternalError), keep its quotas.
import { DEFAULT_POLICY, grant, MemoryListener, PREVIEW1_FUNCTIONS, MemoryStream } from '../src/index.js'
import { PAGE, setup } from './harness.js'

// Which parameters are i64 (bigint), per function; everything else is i32.
const I64: Partial<Record<string, number[]>> = {
  clock_time_get: [1], fd_advise: [1, 2], fd_allocate: [1, 2], fd_fdstat_set_rights: [1, 2], fd_filestat_set_size: [1],
  fd_filestat_set_times: [1, 2], fd_pread: [3], fd_pwrite: [3], fd_readdir: [3], fd_seek: [1],
  path_filestat_set_times: [4, 5], path_open: [5, 6],
}
const ARITY: Record<string, number> = {
  args_get: 2, args_sizes_get: 2, environ_get: 2, environ_sizes_get: 2, clock_res_get: 2, clock_time_get: 3,
  fd_advise: 4, fd_allocate: 3, fd_close: 1, fd_datasync: 1, fd_fdstat_get: 2, fd_fdstat_set_flags: 2,
  fd_fdstat_set_rights: 3, fd_filestat_get: 2, fd_filestat_set_size: 2, fd_filestat_set_times: 4, fd_pread: 5,
  fd_prestat_get: 2, fd_prestat_dir_name: 3, fd_pwrite: 5, fd_read: 4, fd_readdir: 5, fd_renumber: 2, fd_seek: 4,
  fd_sync: 1, fd_tell: 2, fd_write: 4, path_create_directory: 3, path_filestat_get: 5, path_filestat_set_times: 7,
  path_link: 7, path_open: 9, path_readlink: 6, path_remove_directory: 3, path_rename: 6, path_symlink: 5,
  path_unlink_file: 3, poll_oneoff: 4, proc_exit: 1, proc_raise: 1, sched_yield: 0, random_get: 2,
  sock_accept: 3, sock_recv: 6, sock_send: 5, sock_shutdown: 2,
}

function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => { s = (s + 0x6d2b79f5) >>> 0; let t = s; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) }
}

test.each([1, 2, 3, 4])('seed %d: 5 000 random calls answer errnos only (a layer failure would throw), quotas kept', (seed) => {
  expect(Object.keys(ARITY).sort()).toEqual([...PREVIEW1_FUNCTIONS].sort())
  const r = rng(seed)
  const listener = new MemoryListener()
  const policy = grant(DEFAULT_POLICY, { scratch: { maxBytes: 4096, maxInodes: 32 }, sockets: true, stdin: 'stream' })
  const h = setup(policy, { sockets: [listener], stdin: new MemoryStream() })
  const guard = new Uint8Array(h.memory.buffer.byteLength)
  // A few real things to hit: a client connection, files and dirs, small fds.
  listener.connect()
  const small = [0, 1, 2, 3, 4, 5, 6, 7, 8]
  const pick = (): number => {
    switch (r() % 6) {
      case 0: return small[r() % small.length]!
      case 1: return r() % 4096 // valid, low memory
      case 2: return PAGE - (r() % 64) // near the end
      case 3: return r() | 0 // anything
      case 4: return -(r() % 16)
      default: return r() % 300 // small lengths
    }
  }
  const pick64 = (): bigint => [0n, 1n, -1n, 1n << 32n, 1n << 63n, BigInt(r() % 5000)][r() % 6]!
  // Strings the path calls will find at low addresses.
  h.str(0, 'a/b/../c/./d..//e/../../x/y')
  let errnos = 0
  const seen = new Set<number>()
  // proc_exit ends the process (proc.test.ts covers it): leave it out so the run goes on.
  const fns = PREVIEW1_FUNCTIONS.filter((f) => f !== 'proc_exit')
  for (let i = 0; i < 5000; i++) {
    const fn = fns[r() % fns.length]!
    const args = Array.from({ length: ARITY[fn]! }, (_, k) => (I64[fn]?.includes(k) ? pick64() : pick()))
    try {
      const v = h.call(fn, ...args)
      expect(typeof v).toBe('number')
      expect(v >= 0 && v <= 76).toBe(true)
      errnos++
      seen.add(v)
    } catch (e) {
      throw new Error(`${fn}(${args.join(', ')}) threw ${String(e)}`)
    }
  }
  expect(errnos).toBe(5000)
  // Not only early refusals: successes and deep errnos (ENOENT, ENOTDIR, EEXIST…) too.
  expect(seen.size).toBeGreaterThan(8)
  expect(seen.has(0)).toBe(true)
  const u = h.wasi.scratchUsage()!
  expect(u.bytes).toBeLessThanOrEqual(4096)
  expect(u.inodes).toBeLessThanOrEqual(32)
  expect(h.memory.buffer.byteLength).toBe(guard.length)
})
