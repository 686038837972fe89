// The conformance table: every preview1 function, one row each, called with valid and
// hostile arguments under the default policy and under each grant. Each case checks the
// errno (or the typed trap) and that a failing call left guest memory untouched.
import { WASI } from 'node:wasi'
import { DEFAULT_POLICY, PREVIEW1_FUNCTIONS, ProcessExit, grant, validatePolicy, MemoryListener, type Preview1Function, type Policy } from '../src/index.js'
import { ERRNO, HOSTILE_PTRS, PAGE, setup, type Harness } from './harness.js'
import { ALL_FD_GRANTS, FD_FUNCTIONS, answerOn } from '../src/closed-fd.js'

const OUT = 4096 // result area
const IOV = 2048 // iovec area
const STR = 1024 // strings

/** A clock subscription (relative, timeout 0) at IOV, events at OUT+64. */
function clockSub(h: Harness): void {
  h.u8().fill(0, IOV, IOV + 48)
  h.dv().setBigUint64(IOV, 7n, true)
  h.dv().setUint8(IOV + 8, 0)
  h.dv().setUint32(IOV + 16, 1, true)
}
function writeIov(h: Harness): [number, number] { h.str(STR, 'hello'); return h.iovs(IOV, [[STR, 5]]) }

interface Case {
  /** Arguments of a valid call; `p` is substituted by each hostile pointer when `hostile` is set. */
  args: (h: Harness, p: number) => Array<number | bigint>
  errno: number
  /** Errno when `p` is hostile (default EFAULT); omit `hostile` when no pointer is checked first. */
  hostile?: number
}

// Under the default policy. `p` defaults to a valid pointer (OUT).
const DEFAULT: Record<Preview1Function, Case> = {
  args_get: { args: () => [OUT, OUT + 64], errno: ERRNO.SUCCESS },
  args_sizes_get: { args: (_h, p) => [p, OUT + 4], errno: ERRNO.SUCCESS, hostile: ERRNO.EFAULT },
  environ_get: { args: () => [OUT, OUT + 64], errno: ERRNO.SUCCESS },
  environ_sizes_get: { args: (_h, p) => [OUT, p], errno: ERRNO.SUCCESS, hostile: ERRNO.EFAULT },
  clock_res_get: { args: (_h, p) => [1, p], errno: ERRNO.SUCCESS, hostile: ERRNO.EFAULT },
  clock_time_get: { args: (_h, p) => [0, 0n, p], errno: ERRNO.SUCCESS, hostile: ERRNO.EFAULT },
  fd_advise: { args: () => [1, 0n, 0n, 0], errno: ERRNO.ESPIPE },
  fd_allocate: { args: () => [1, 0n, 1n], errno: ERRNO.ESPIPE },
  fd_close: { args: () => [9], errno: ERRNO.EBADF },
  fd_datasync: { args: () => [1], errno: ERRNO.EINVAL },
  fd_fdstat_get: { args: (_h, p) => [1, p], errno: ERRNO.SUCCESS, hostile: ERRNO.EFAULT },
  fd_fdstat_set_flags: { args: () => [1, 0], errno: ERRNO.SUCCESS },
  fd_fdstat_set_rights: { args: () => [1, 0n, 0n], errno: ERRNO.ENOTSUP },
  fd_filestat_get: { args: (_h, p) => [2, p], errno: ERRNO.SUCCESS, hostile: ERRNO.EFAULT },
  fd_filestat_set_size: { args: () => [1, 0n], errno: ERRNO.EINVAL },
  fd_filestat_set_times: { args: () => [1, 0n, 0n, 0], errno: ERRNO.EBADF },
  fd_pread: { args: (h) => [0, ...h.iovs(IOV, [[OUT, 8]]), 0n, OUT + 64], errno: ERRNO.ESPIPE },
  fd_prestat_get: { args: () => [3, OUT], errno: ERRNO.EBADF },
  fd_prestat_dir_name: { args: () => [3, OUT, 8], errno: ERRNO.EBADF },
  fd_pwrite: { args: (h) => [1, ...writeIov(h), 0n, OUT], errno: ERRNO.ESPIPE },
  fd_read: { args: (h, p) => [0, ...h.iovs(IOV, [[OUT, 8]]), p], errno: ERRNO.SUCCESS, hostile: ERRNO.EFAULT },
  fd_readdir: { args: () => [1, OUT, 128, 0n, OUT + 200], errno: ERRNO.ENOTDIR },
  fd_renumber: { args: () => [1, 2], errno: ERRNO.SUCCESS },
  fd_seek: { args: () => [1, 0n, 0, OUT], errno: ERRNO.ESPIPE },
  fd_sync: { args: () => [1], errno: ERRNO.EINVAL },
  fd_tell: { args: () => [1, OUT], errno: ERRNO.ESPIPE },
  fd_write: { args: (h, p) => [1, ...writeIov(h), p], errno: ERRNO.SUCCESS, hostile: ERRNO.EFAULT },
  path_create_directory: { args: (h) => [1, ...h.str(STR, 'd')], errno: ERRNO.ENOTCAPABLE },
  path_filestat_get: { args: (h) => [1, 0, ...h.str(STR, 'f'), OUT], errno: ERRNO.ENOTCAPABLE },
  path_filestat_set_times: { args: (h) => [1, 0, ...h.str(STR, 'f'), 0n, 0n, 0], errno: ERRNO.ENOTCAPABLE },
  path_link: { args: (h) => [1, 0, ...h.str(STR, 'a'), 1, ...h.str(STR + 8, 'b')], errno: ERRNO.ENOTCAPABLE },
  path_open: { args: (h) => [1, 0, ...h.str(STR, '/etc/passwd'), 0, 2n, 0n, 0, OUT], errno: ERRNO.ENOTCAPABLE },
  path_readlink: { args: (h) => [1, ...h.str(STR, 'l'), OUT, 64, OUT + 64], errno: ERRNO.ENOTCAPABLE },
  path_remove_directory: { args: (h) => [1, ...h.str(STR, 'd')], errno: ERRNO.ENOTCAPABLE },
  path_rename: { args: (h) => [1, ...h.str(STR, 'a'), 1, ...h.str(STR + 8, 'b')], errno: ERRNO.ENOTCAPABLE },
  path_symlink: { args: (h) => [...h.str(STR, '/etc'), 1, ...h.str(STR + 8, 'e')], errno: ERRNO.ENOTCAPABLE },
  path_unlink_file: { args: (h) => [1, ...h.str(STR, 'f')], errno: ERRNO.ENOTCAPABLE },
  poll_oneoff: { args: (h, p) => { clockSub(h); return [IOV, OUT + 64, 1, p] }, errno: ERRNO.SUCCESS, hostile: ERRNO.EFAULT },
  proc_exit: { args: () => [3], errno: -1 },
  proc_raise: { args: () => [9], errno: ERRNO.ENOSYS },
  sched_yield: { args: () => [], errno: ERRNO.SUCCESS },
  random_get: { args: (_h, p) => [p, 32], errno: ERRNO.SUCCESS, hostile: ERRNO.EFAULT },
  sock_accept: { args: () => [1, 0, OUT], errno: ERRNO.ENOTCAPABLE },
  sock_recv: { args: (h) => [1, ...h.iovs(IOV, [[OUT, 8]]), 0, OUT + 64, OUT + 68], errno: ERRNO.ENOTCAPABLE },
  sock_send: { args: (h) => [1, ...writeIov(h), 0, OUT], errno: ERRNO.ENOTCAPABLE },
  sock_shutdown: { args: () => [1, 3], errno: ERRNO.ENOTCAPABLE },
}

describe('every preview1 function has exactly one explicit row', () => {
  test('the policy, the imports and this table name the same 46 functions as node:wasi', () => {
    const nodeImports = new WASI({ version: 'preview1' }).getImportObject() as { wasi_snapshot_preview1: object }
    const nodeNames = Object.keys(nodeImports.wasi_snapshot_preview1).sort()
    expect(nodeNames).toHaveLength(46)
    expect([...PREVIEW1_FUNCTIONS].sort()).toEqual(nodeNames)
    expect(new Set(PREVIEW1_FUNCTIONS).size).toBe(46)
    expect(Object.keys(DEFAULT_POLICY.rows).sort()).toEqual(nodeNames)
    expect(Object.keys(setup().wasi.imports).sort()).toEqual(nodeNames)
    expect(Object.keys(DEFAULT).sort()).toEqual(nodeNames)
  })
})

describe('default policy: valid arguments', () => {
  test.each(PREVIEW1_FUNCTIONS.map((f) => [f]))('%s', (fn) => {
    const h = setup()
    const c = DEFAULT[fn]
    const args = c.args(h, OUT)
    if (fn === 'proc_exit') {
      expect(() => h.call(fn, ...args)).toThrow(ProcessExit)
      return
    }
    if (c.errno === ERRNO.SUCCESS) h.ok(h.call(fn, ...args))
    else h.fails(c.errno, () => h.call(fn, ...args))
  })
})

describe('default policy: hostile pointers are EFAULT and write nothing', () => {
  const cases = PREVIEW1_FUNCTIONS.filter((f) => DEFAULT[f].hostile !== undefined)
    .flatMap((f) => HOSTILE_PTRS.map((p) => [f, p] as const))
  test.each(cases)('%s with pointer %d', (fn, p) => {
    const h = setup()
    const args = DEFAULT[fn].args(h, p)
    h.fails(DEFAULT[fn].hostile!, () => h.call(fn, ...args))
    expect(h.stdout.records).toHaveLength(0)
  })
})

describe('default policy: hostile lengths, iovecs and flags', () => {
  test('an iovec count whose byte size reaches 2^32 is EINVAL', () => {
    const h = setup()
    h.fails(ERRNO.EINVAL, () => h.call('fd_write', 1, IOV, 0x20000000, OUT))
  })
  test('an iovec array running past the end of memory is EFAULT', () => {
    const h = setup()
    h.fails(ERRNO.EFAULT, () => h.call('fd_write', 1, PAGE - 8, 2, OUT))
  })
  test('an iovec whose buffer wraps around 2^32 is EFAULT, nothing reaches the sink', () => {
    const h = setup()
    const [at, n] = h.iovs(IOV, [[STR, 4], [0xffffff00, 0x200]])
    h.fails(ERRNO.EFAULT, () => h.call('fd_write', 1, at, n, OUT))
    expect(h.stdout.records).toHaveLength(0)
  })
  test('an iovec length past memory is EFAULT on fd_read too', () => {
    const h = setup()
    const [at, n] = h.iovs(IOV, [[OUT, 0xfffffff0]])
    h.fails(ERRNO.EFAULT, () => h.call('fd_read', 0, at, n, OUT))
  })
  test('random_get with a length that overflows 32 bits is refused', () => {
    const h = setup()
    h.fails(ERRNO.EINVAL, () => h.call('random_get', OUT, 0xffffffff))
    h.fails(ERRNO.EFAULT, () => h.call('random_get', PAGE - 16, 32))
  })
  test('bad clock ids and flags are EINVAL', () => {
    const h = setup()
    h.fails(ERRNO.EINVAL, () => h.call('clock_time_get', 99, 0n, OUT))
    h.fails(ERRNO.EINVAL, () => h.call('clock_res_get', -1, OUT))
    h.fails(ERRNO.EINVAL, () => h.call('fd_fdstat_set_flags', 1, 0x10000))
    h.fails(ERRNO.EINVAL, () => h.call('poll_oneoff', IOV, OUT, 0, OUT + 4))
  })
  test('invalid fds are EBADF everywhere an fd is taken', () => {
    const h = setup()
    const iov = writeIov(h)
    for (const fd of [3, 9, 0x7fffffff, -1]) {
      h.fails(ERRNO.EBADF, () => h.call('fd_write', fd, ...iov, OUT))
      h.fails(ERRNO.EBADF, () => h.call('fd_fdstat_get', fd, OUT))
      h.fails(ERRNO.EBADF, () => h.call('fd_close', fd))
    }
  })
  test('denied rows are counted per function in the audit', () => {
    const h = setup()
    h.call('path_open', 1, 0, ...h.str(STR, 'x'), 0, 0n, 0n, 0, OUT)
    h.call('path_open', 1, 0, ...h.str(STR, 'x'), 0, 0n, 0n, 0, OUT)
    h.call('sock_accept', 1, 0, OUT)
    h.call('sock_accept', 3, 0, OUT) // not open: EBADF, not a denial
    h.call('proc_raise', 2)
    h.call('random_get', PAGE, 8)
    const a = h.wasi.audit()
    expect(a.byFunction).toEqual({ path_open: 2, sock_accept: 1, proc_raise: 1, random_get: 1 })
    expect(a.byErrno).toEqual({ ENOTCAPABLE: 3, ENOSYS: 1, EFAULT: 1 })
    expect(a.denials).toBe(5)
  })
})

// Issue 17: programs tell "no such fd" (EBADF) from "not allowed" (ENOTCAPABLE): C's
// shutdown() on a bad fd aborted when it got ENOTCAPABLE.
describe('an fd that is not open is EBADF on every function that takes one, denied or not', () => {
  const policies: Array<[string, Policy]> = [['default', DEFAULT_POLICY], ['all fd grants', ALL_FD_GRANTS],
    ['a policy denying fd_* with EPERM', validatePolicy({ ...DEFAULT_POLICY, rows: { ...DEFAULT_POLICY.rows, ...Object.fromEntries(FD_FUNCTIONS.filter((f) => f.startsWith('fd_')).map((f) => [f, { do: 'deny', errno: 'EPERM' }])) } })]]
  test.each(policies.flatMap(([name, p]) => FD_FUNCTIONS.map((fn) => [name, fn, p] as const)))('%s: %s', (_name, fn, policy) => {
    for (const fd of [9, 40, 0x7fffffff, -1]) {
      expect(answerOn(policy, fn, fd)).toBe(fn === 'poll_oneoff' ? 'event EBADF' : 'EBADF')
    }
  })
  test('an open fd outside the row is ENOTCAPABLE (counted); a closed one is EBADF (not counted)', () => {
    const h = setup()
    h.fails(ERRNO.ENOTCAPABLE, () => h.call('sock_shutdown', 1, 2))
    h.fails(ERRNO.EBADF, () => h.call('sock_shutdown', 7, 2))
    const [a, b] = [h.str(STR, 'a'), h.str(STR + 8, 'b')]
    h.fails(ERRNO.EBADF, () => h.call('path_rename', 1, ...a, 7, ...b))
    expect(h.wasi.audit().byErrno).toEqual({ ENOTCAPABLE: 1 })
  })
})

// Under each grant, the rows it widens act, and still refuse hostile pointers.
const GRANTS: Array<[string, Policy, Partial<Record<Preview1Function, Case>>, () => object]> = [
  ['scratch', grant(DEFAULT_POLICY, { scratch: true }), {
    path_create_directory: { args: (h) => [3, ...h.str(STR, 'd')], errno: ERRNO.SUCCESS },
    path_open: { args: (h, p) => [3, 0, ...h.str(STR, 'f'), 1, 0x42n, 0n, 0, p], errno: ERRNO.SUCCESS, hostile: ERRNO.EFAULT },
    path_filestat_get: { args: (h, p) => [3, 0, ...h.str(STR, '.'), p], errno: ERRNO.SUCCESS, hostile: ERRNO.EFAULT },
    path_symlink: { args: (h) => [...h.str(STR, '../x'), 3, ...h.str(STR + 8, 'l')], errno: ERRNO.SUCCESS },
    path_unlink_file: { args: (h) => [3, ...h.str(STR, 'nope')], errno: ERRNO.ENOENT },
    fd_prestat_get: { args: (_h, p) => [3, p], errno: ERRNO.SUCCESS, hostile: ERRNO.EFAULT },
    fd_prestat_dir_name: { args: (_h, p) => [3, p, 8], errno: ERRNO.SUCCESS, hostile: ERRNO.EFAULT },
    fd_readdir: { args: (_h, p) => [3, p, 128, 0n, OUT + 200], errno: ERRNO.SUCCESS, hostile: ERRNO.EFAULT },
    sock_accept: { args: () => [1, 0, OUT], errno: ERRNO.ENOTCAPABLE },
  }, () => ({})],
  ['sockets', grant(DEFAULT_POLICY, { sockets: true }), {
    sock_accept: { args: (_h, p) => [3, 0, p], errno: ERRNO.SUCCESS, hostile: ERRNO.EFAULT },
    sock_shutdown: { args: () => [3, 3], errno: ERRNO.ENOTSOCK },
    path_open: { args: (h) => [1, 0, ...h.str(STR, 'f'), 1, 0x42n, 0n, 0, OUT], errno: ERRNO.ENOTCAPABLE },
  }, () => { const l = new MemoryListener(); l.connect(); return { sockets: [l] } }],
  ['virtual clock + seeded random', grant(DEFAULT_POLICY, { clock: { startMs: 1000 }, random: { seed: 1 } }), {
    clock_time_get: { args: (_h, p) => [0, 0n, p], errno: ERRNO.SUCCESS, hostile: ERRNO.EFAULT },
    random_get: { args: (_h, p) => [p, 32], errno: ERRNO.SUCCESS, hostile: ERRNO.EFAULT },
    path_open: { args: (h) => [1, 0, ...h.str(STR, 'f'), 1, 0x42n, 0n, 0, OUT], errno: ERRNO.ENOTCAPABLE },
  }, () => ({})],
]

describe.each(GRANTS)('grant: %s', (_name, policy, cases, opts) => {
  const names = Object.keys(cases) as Preview1Function[]
  test.each(names.map((n) => [n]))('%s with valid arguments', (fn) => {
    const h = setup(policy, opts())
    const c = cases[fn]!
    const args = c.args(h, OUT)
    if (c.errno === ERRNO.SUCCESS) h.ok(h.call(fn, ...args))
    else h.fails(c.errno, () => h.call(fn, ...args))
  })
  test.each(names.filter((n) => cases[n]!.hostile !== undefined).flatMap((n) => HOSTILE_PTRS.map((p) => [n, p] as const)))('%s with hostile pointer %d', (fn, p) => {
    const h = setup(policy, opts())
    const c = cases[fn]!
    const args = c.args(h, p)
    const usage = h.wasi.scratchUsage()
    h.fails(c.hostile!, () => h.call(fn, ...args))
    expect(h.wasi.scratchUsage()).toEqual(usage) // nothing created in the scratch dir either
  })
})
