// path_* and fd_* inside a granted scratch dir: create/write/read/rename/delete, quotas,
// and resolution that no absolute path, `..` or symlink escapes.
import { DEFAULT_POLICY, grant, ERRNO } from '../index.js'
import { setup, type Harness } from '../../test/harness.js'

const OUT = 4096, IOV = 2048, STR = 1024
const READ = 2n, WRITE = 64n, RW = READ | WRITE
const CREAT = 1, DIRECTORY = 2, EXCL = 4, TRUNC = 8
const SCRATCH = grant(DEFAULT_POLICY, { scratch: { maxBytes: 64, maxInodes: 6 } })

function open(h: Harness, path: string, oflags = 0, rights = RW, dirfd = 3, follow = 1): number {
  const [p, l] = h.str(STR, path)
  const r = h.call('path_open', dirfd, follow, p, l, oflags, rights, 0n, 0, OUT + 500)
  return r === ERRNO.SUCCESS ? h.u32(OUT + 500) : -r
}
function write(h: Harness, fd: number, s: string): number {
  h.str(STR + 512, s)
  const r = h.call('fd_write', fd, ...h.iovs(IOV, [[STR + 512, Buffer.byteLength(s)]]), OUT)
  return r === ERRNO.SUCCESS ? h.u32(OUT) : -r
}
function readAll(h: Harness, fd: number): string {
  h.call('fd_seek', fd, 0n, 0, OUT)
  expect(h.call('fd_read', fd, ...h.iovs(IOV, [[OUT + 100, 200]]), OUT)).toBe(0)
  return h.read(OUT + 100, h.u32(OUT))
}
const path = (h: Harness, fn: 'path_create_directory' | 'path_unlink_file' | 'path_remove_directory', p: string): number => h.call(fn, 3, ...h.str(STR, p))
const rename = (h: Harness, a: string, b: string): number => h.call('path_rename', 3, ...h.str(STR, a), 3, ...h.str(STR + 100, b))
const symlink = (h: Harness, target: string, at: string): number => h.call('path_symlink', ...h.str(STR, target), 3, ...h.str(STR + 100, at))

describe('scratch dir', () => {
  test('is preopened at fd 3 under its mount path', () => {
    const h = setup(SCRATCH)
    h.ok(h.call('fd_prestat_get', 3, OUT))
    expect(h.u8()[OUT]).toBe(0)
    expect(h.u32(OUT + 4)).toBe(8)
    h.ok(h.call('fd_prestat_dir_name', 3, OUT + 16, 8))
    expect(h.read(OUT + 16, 8)).toBe('/scratch')
    h.fails(ERRNO.ENAMETOOLONG, () => h.call('fd_prestat_dir_name', 3, OUT + 16, 7))
  })

  test('create, write, read, rename, delete', () => {
    const h = setup(SCRATCH)
    const fd = open(h, 'a.txt', CREAT)
    expect(write(h, fd, 'hello')).toBe(5)
    expect(readAll(h, fd)).toBe('hello')
    h.ok(h.call('fd_close', fd))
    expect(path(h, 'path_create_directory', 'sub')).toBe(0)
    expect(rename(h, 'a.txt', 'sub/b.txt')).toBe(0)
    expect(open(h, 'a.txt')).toBe(-ERRNO.ENOENT)
    const fd2 = open(h, 'sub/../sub/./b.txt', 0, READ)
    expect(readAll(h, fd2)).toBe('hello')
    expect(write(h, fd2, 'x')).toBe(-ERRNO.EBADF) // opened read-only
    h.ok(h.call('path_filestat_get', 3, 0, ...h.str(STR, 'sub/b.txt'), OUT))
    expect(h.u8()[OUT + 16]).toBe(4)
    expect(h.u64(OUT + 32)).toBe(5n)
    expect(path(h, 'path_remove_directory', 'sub')).toBe(ERRNO.ENOTEMPTY)
    expect(path(h, 'path_unlink_file', 'sub/b.txt')).toBe(0)
    expect(readAll(h, fd2)).toBe('hello') // still open: still readable
    h.ok(h.call('fd_close', fd2))
    expect(path(h, 'path_remove_directory', 'sub')).toBe(0)
    expect(h.wasi.scratchUsage()).toEqual({ bytes: 0, inodes: 1 })
  })

  test('open flags: EXCL, TRUNC, DIRECTORY, append', () => {
    const h = setup(SCRATCH)
    const fd = open(h, 'f', CREAT | EXCL)
    write(h, fd, 'abc')
    expect(open(h, 'f', CREAT | EXCL)).toBe(-ERRNO.EEXIST)
    expect(open(h, 'f', DIRECTORY)).toBe(-ERRNO.ENOTDIR)
    expect(open(h, '.', 0, RW)).toBe(-ERRNO.EISDIR)
    expect(open(h, 'f', 0xff)).toBe(-ERRNO.EINVAL)
    h.ok(h.call('fd_fdstat_set_flags', fd, 1)) // APPEND
    h.call('fd_seek', fd, 0n, 0, OUT)
    write(h, fd, 'de')
    expect(readAll(h, fd)).toBe('abcde')
    const t = open(h, 'f', TRUNC)
    expect(readAll(h, t)).toBe('')
  })

  test('fd_readdir lists entries with cookies; a small buffer is filled and truncated', () => {
    const h = setup(SCRATCH)
    h.call('fd_close', open(h, 'one', CREAT))
    path(h, 'path_create_directory', 'two')
    h.ok(h.call('fd_readdir', 3, OUT, 512, 0n, OUT + 600))
    const used = h.u32(OUT + 600)
    const names: string[] = []
    for (let o = 0; o < used;) { const n = h.u32(OUT + o + 16); names.push(h.read(OUT + o + 24, n)); o += 24 + n }
    expect(names).toEqual(['.', '..', 'one', 'two'])
    h.ok(h.call('fd_readdir', 3, OUT, 30, 2n, OUT + 600))
    expect(h.u32(OUT + 600)).toBe(30)
    expect(h.read(OUT + 24, 3)).toBe('one')
  })

  test('the byte quota: partial write, then ENOSPC; freed bytes are usable again', () => {
    const h = setup(SCRATCH)
    const fd = open(h, 'big', CREAT)
    expect(write(h, fd, 'x'.repeat(60))).toBe(60)
    expect(write(h, fd, 'y'.repeat(10))).toBe(4)
    expect(write(h, fd, 'z')).toBe(-ERRNO.ENOSPC)
    expect(h.call('fd_filestat_set_size', fd, 100n)).toBe(ERRNO.ENOSPC)
    expect(h.call('fd_allocate', fd, 0n, 65n)).toBe(ERRNO.ENOSPC)
    expect(h.call('fd_pwrite', fd, ...h.iovs(IOV, [[STR, 1]]), 1n << 40n, OUT)).toBe(ERRNO.EINVAL)
    expect(h.wasi.scratchUsage()!.bytes).toBe(64)
    h.ok(h.call('fd_filestat_set_size', fd, 10n))
    expect(write(h, fd, 'w')).toBe(-ERRNO.ENOSPC) // the offset is still 64: a sparse write past the quota
    h.ok(h.call('fd_seek', fd, 10n, 0, OUT))
    expect(write(h, fd, 'w'.repeat(54))).toBe(54)
  })

  test('an unlinked but open file still counts against the quota until closed', () => {
    const h = setup(SCRATCH)
    const fd = open(h, 'a', CREAT)
    write(h, fd, 'x'.repeat(64))
    expect(path(h, 'path_unlink_file', 'a')).toBe(0)
    const fd2 = open(h, 'b', CREAT)
    expect(write(h, fd2, 'y')).toBe(-ERRNO.ENOSPC)
    h.ok(h.call('fd_close', fd))
    expect(write(h, fd2, 'y')).toBe(1)
  })

  test('the inode quota: ENOSPC when creating past it', () => {
    const h = setup(SCRATCH) // root + 5
    for (let i = 0; i < 5; i++) expect(path(h, 'path_create_directory', `d${i}`)).toBe(0)
    expect(path(h, 'path_create_directory', 'd5')).toBe(ERRNO.ENOSPC)
    expect(open(h, 'f', CREAT)).toBe(-ERRNO.ENOSPC)
    expect(h.wasi.scratchUsage()!.inodes).toBe(6)
  })

  test('rename refuses to move a directory into itself; replaces files', () => {
    const h = setup(SCRATCH)
    path(h, 'path_create_directory', 'a')
    path(h, 'path_create_directory', 'a/b')
    expect(rename(h, 'a', 'a/b/c')).toBe(ERRNO.EINVAL)
    h.call('fd_close', open(h, 'x', CREAT))
    const y = open(h, 'y', CREAT); write(h, y, 'yy'); h.call('fd_close', y)
    expect(rename(h, 'y', 'x')).toBe(0)
    expect(readAll(h, open(h, 'x', 0, READ))).toBe('yy')
    expect(rename(h, 'x', 'a')).toBe(ERRNO.EISDIR)
  })
})

describe('escape attempts from the scratch dir', () => {
  const escapes = ['/etc/passwd', '../etc/passwd', 'sub/../../x', '..', './../x', 'sub/../..']
  test.each(escapes)('%s is ENOTCAPABLE and counted', (p) => {
    const h = setup(SCRATCH)
    path(h, 'path_create_directory', 'sub')
    const usage = h.wasi.scratchUsage()
    expect(open(h, p, CREAT)).toBe(-ERRNO.ENOTCAPABLE)
    expect(h.wasi.scratchUsage()).toEqual(usage)
    expect(h.wasi.audit().byErrno.ENOTCAPABLE).toBe(1)
  })

  test('symlinks may point inside, never out (absolute or past the dir), and loops end in ELOOP', () => {
    const h = setup(grant(DEFAULT_POLICY, { scratch: true }))
    path(h, 'path_create_directory', 'sub')
    const f = open(h, 'sub/t', CREAT); write(h, f, 'inside'); h.call('fd_close', f)
    expect(symlink(h, 'sub/t', 'ok')).toBe(0)
    expect(readAll(h, open(h, 'ok', 0, READ))).toBe('inside')
    expect(symlink(h, '/etc/passwd', 'abs')).toBe(0)
    expect(symlink(h, '../../etc/passwd', 'sub/up')).toBe(0)
    expect(symlink(h, '..', 'sub/parent')).toBe(0)
    expect(open(h, 'abs', 0, READ)).toBe(-ERRNO.ENOTCAPABLE)
    expect(open(h, 'sub/up', 0, READ)).toBe(-ERRNO.ENOTCAPABLE)
    expect(open(h, 'sub/parent/sub/t', 0, READ)).toBeGreaterThan(3) // `..` to the dir itself is fine
    expect(open(h, 'sub/parent/../x', CREAT)).toBe(-ERRNO.ENOTCAPABLE)
    expect(open(h, 'abs', 0, READ, 3, 0)).toBe(-ERRNO.ELOOP) // not followed: O_NOFOLLOW semantics
    expect(symlink(h, 'loop', 'loop')).toBe(0)
    expect(open(h, 'loop', 0, READ)).toBe(-ERRNO.ELOOP)
    h.ok(h.call('path_readlink', 3, ...h.str(STR, 'abs'), OUT, 64, OUT + 100))
    expect(h.read(OUT, h.u32(OUT + 100))).toBe('/etc/passwd')
  })

  test('a directory fd opened inside is itself a boundary', () => {
    const h = setup(grant(DEFAULT_POLICY, { scratch: true }))
    path(h, 'path_create_directory', 'sub')
    const d = open(h, 'sub', DIRECTORY, READ)
    expect(open(h, '../x', CREAT, RW, d)).toBe(-ERRNO.ENOTCAPABLE)
    expect(open(h, 'y', CREAT, RW, d)).toBeGreaterThan(3)
  })

  test('paths that are not UTF-8, contain NUL, or are too long are refused', () => {
    const h = setup(grant(DEFAULT_POLICY, { scratch: true }))
    h.u8().set([0xff, 0xfe], STR)
    h.fails(ERRNO.EILSEQ, () => h.call('path_open', 3, 0, STR, 2, CREAT, RW, 0n, 0, OUT))
    h.str(STR, 'a\0b')
    h.fails(ERRNO.EINVAL, () => h.call('path_open', 3, 0, STR, 3, CREAT, RW, 0n, 0, OUT))
    h.str(STR, 'n'.repeat(300))
    h.fails(ERRNO.ENAMETOOLONG, () => h.call('path_open', 3, 0, STR, 300, CREAT, RW, 0n, 0, OUT))
  })

  test('close() drops the scratch dir', () => {
    const h = setup(SCRATCH)
    write(h, open(h, 'f', CREAT), 'abc')
    h.wasi.close()
    expect(h.wasi.scratchUsage()).toEqual({ bytes: 0, inodes: 0 })
  })
})
