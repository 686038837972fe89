// Seeded scratch (issue 17): the spawner fills the dir before start, counted against its
// quota; bad seeds are refused whole, before anything is made.
import { checkScratchSeed, createWasi, DEFAULT_POLICY, grant, MemorySink, PolicyError, ScratchSeedError, type ScratchEntry } from '../index.js'
import { setup, type Harness } from '../../test/harness.js'

const STR = 1024, OUT = 4096, IOV = 2048, BUF = 8192
const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

function readFile(h: Harness, path: string): string {
  h.ok(h.call('path_open', 3, 1 /* follow symlinks */, ...h.str(STR, path), 0, 0x2n /* FD_READ */, 0n, 0, OUT))
  const fd = h.u32(OUT)
  h.ok(h.call('fd_read', fd, ...h.iovs(IOV, [[BUF, 1024]]), OUT))
  const text = h.read(BUF, h.u32(OUT))
  h.ok(h.call('fd_close', fd))
  return text
}

describe('a seeded scratch dir', () => {
  const seed: ScratchEntry[] = [
    { path: 'data/in.txt', bytes: enc('hello seed\n') },
    { path: 'data/sub', dir: true },
    { path: 'data/link', symlink: 'in.txt' },
    { path: 'empty', dir: true },
  ]

  test('holds the files, dirs and symlinks given, counted against the quota', () => {
    const policy = grant(DEFAULT_POLICY, { scratch: { maxBytes: 1000, maxInodes: 10 } })
    expect(checkScratchSeed(policy.scratch!, seed)).toEqual({ bytes: 11 + 6, inodes: 6 })
    const h = setup(policy, { scratchSeed: seed })
    expect(h.wasi.scratchUsage()).toEqual({ bytes: 17, inodes: 6 })
    expect(readFile(h, 'data/in.txt')).toBe('hello seed\n')
    expect(readFile(h, 'data/link')).toBe('hello seed\n')
    h.ok(h.call('path_filestat_get', 3, 0, ...h.str(STR, 'data/sub'), OUT))
    expect(h.u8()[OUT + 16]).toBe(3) // a directory
    // The guest's own writes count on top of the seed.
    h.ok(h.call('path_open', 3, 0, ...h.str(STR, 'data/in.txt'), 0, 0x40n /* FD_WRITE */, 0n, 1 /* APPEND */, OUT))
    const fd = h.u32(OUT)
    h.ok(h.call('fd_write', fd, ...h.iovs(IOV, [h.str(BUF, 'more\n')]), OUT))
    expect(h.wasi.scratchUsage()).toEqual({ bytes: 22, inodes: 6 })
  })

  test('is a copy: the guest writing it changes neither the seed nor another process seeded from it', () => {
    const bytes = enc('abc')
    const policy = grant(DEFAULT_POLICY, { scratch: true })
    const a = setup(policy, { scratchSeed: [{ path: 'f', bytes }] })
    const b = setup(policy, { scratchSeed: [{ path: 'f', bytes }] })
    a.ok(a.call('path_open', 3, 0, ...a.str(STR, 'f'), 0, 0x40n, 0n, 0, OUT))
    a.ok(a.call('fd_write', a.u32(OUT), ...a.iovs(IOV, [a.str(BUF, 'XYZ')]), OUT))
    expect(readFile(a, 'f')).toBe('XYZ')
    expect(readFile(b, 'f')).toBe('abc')
    expect(Buffer.from(bytes).toString()).toBe('abc')
  })

  test('over the byte or inode quota: refused whole (ERR_SCRATCH_SEED), nothing made', () => {
    const policy = grant(DEFAULT_POLICY, { scratch: { maxBytes: 10, maxInodes: 3 } })
    const big = [{ path: 'big', bytes: new Uint8Array(11) }]
    expect(() => checkScratchSeed(policy.scratch!, big)).toThrow(ScratchSeedError)
    expect(() => setup(policy, { scratchSeed: big })).toThrow(/ERR_SCRATCH_SEED: the seed holds 11 bytes, more than the scratch quota of 10/)
    const many = [{ path: 'a/b/c', dir: true as const }]
    expect(() => setup(policy, { scratchSeed: many })).toThrow(/makes 4 files and directories/)
    expect(checkScratchSeed(policy.scratch!, [{ path: 'a/b', bytes: new Uint8Array(10) }])).toEqual({ bytes: 10, inodes: 3 })
  })

  test.each([
    ['/etc/passwd', /must be relative/],
    ['../x', /'\.\.' would leave/],
    ['a/../../x', /'\.\.' would leave/],
    ['./x', /'\.' would leave/],
    ['', /empty path/],
    ['a\0b', /NUL/],
    ['x'.repeat(256), /longer than 255/],
  ])('path %j is refused', (path, why) => {
    const policy = grant(DEFAULT_POLICY, { scratch: true })
    expect(() => checkScratchSeed(policy.scratch!, [{ path, bytes: enc('x') }])).toThrow(why)
    expect(() => setup(policy, { scratchSeed: [{ path, bytes: enc('x') }] })).toThrow(ScratchSeedError)
  })

  test('conflicts: a file given twice, a file used as a directory, something that is not an entry', () => {
    const g = grant(DEFAULT_POLICY, { scratch: true }).scratch!
    expect(() => checkScratchSeed(g, [{ path: 'f', bytes: enc('1') }, { path: 'f', bytes: enc('2') }])).toThrow(/f: given twice/)
    expect(() => checkScratchSeed(g, [{ path: 'f', bytes: enc('1') }, { path: 'f/g', bytes: enc('2') }])).toThrow(/f is not a directory/)
    expect(() => checkScratchSeed(g, [{ path: 'f', text: 'x' } as unknown as ScratchEntry])).toThrow(/expected \{ path, bytes \}/)
    expect(checkScratchSeed(g, [{ path: 'd/f', bytes: enc('1') }, { path: 'd', dir: true }, { path: 'd/', dir: true }])).toEqual({ bytes: 1, inodes: 3 })
  })

  test('without a scratch grant a seed is a PolicyError', () => {
    const sink = new MemorySink()
    expect(() => createWasi(DEFAULT_POLICY, { processId: 'p', sinks: { stdout: sink, stderr: sink }, scratchSeed: [{ path: 'f', bytes: enc('x') }] })).toThrow(PolicyError)
  })
})
