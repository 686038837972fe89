// A scratch seed read from a host directory by the embedder (issue 17), and given to a
// guest on this thread and on a pool worker. (The pool case runs the built worker: build
// this package first.)
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkScratchSeed, DEFAULT_POLICY, grant, MemorySink, ScratchSeedError } from '@ww/wasi-restricted'
import { compileGuest, scratchSeedFromHost, Scheduler, spawnGuest, spawnPoolGuest, WorkerPool } from '../src/index.js'
import * as G from '../src/bench/guests.js'
import * as W from './wasi-guests.js'

const text = (s: MemorySink): string => Buffer.concat(s.records.map((r) => r.bytes)).toString('utf8')
let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ww-seed-'))
  mkdirSync(join(dir, 'data', 'sub'), { recursive: true })
  writeFileSync(join(dir, 'data', 'in.txt'), 'from the host\n')
  writeFileSync(join(dir, 'data', 'sub', 'empty'), '')
  symlinkSync('in.txt', join(dir, 'data', 'latest'))
  symlinkSync('/etc/passwd', join(dir, 'data', 'outside')) // copied as a link, never followed
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

test('a host directory becomes entries: dirs, files as bytes, symlinks as symlinks (never followed), sorted', async () => {
  const seed = await scratchSeedFromHost(join(dir, 'data'), 'data')
  expect(seed.map((e) => ('bytes' in e ? [e.path, Buffer.from(e.bytes).toString()] : 'dir' in e ? [e.path, 'dir'] : [e.path, `-> ${e.symlink}`]))).toEqual([
    ['data', 'dir'],
    ['data/in.txt', 'from the host\n'],
    ['data/latest', '-> in.txt'],
    ['data/outside', '-> /etc/passwd'],
    ['data/sub', 'dir'],
    ['data/sub/empty', ''],
  ])
  expect(checkScratchSeed(grant(DEFAULT_POLICY, { scratch: true }).scratch!, seed)).toEqual({ bytes: 14 + 6 + 11, inodes: 7 })
  // A single file, and a directory's contents at the top of the scratch dir.
  expect((await scratchSeedFromHost(join(dir, 'data', 'in.txt'), 'input.txt')).map((e) => e.path)).toEqual(['input.txt'])
  expect((await scratchSeedFromHost(join(dir, 'data', 'sub'), '')).map((e) => e.path)).toEqual(['empty'])
})

test('missing, too large, too many, a special file, a file as the dir itself: ScratchSeedError naming it', async () => {
  await expect(scratchSeedFromHost(join(dir, 'nope'), 'x')).rejects.toThrow(/ERR_SCRATCH_SEED: .*nope: no such file or directory on the host/)
  await expect(scratchSeedFromHost(join(dir, 'data'), 'data', { maxBytes: 10 })).rejects.toThrow(/holds more than 10 bytes/)
  await expect(scratchSeedFromHost(join(dir, 'data'), 'data', { maxEntries: 3 })).rejects.toThrow(/more than 3 files and directories/)
  await expect(scratchSeedFromHost(join(dir, 'data', 'in.txt'), '')).rejects.toThrow(ScratchSeedError)
  if (spawnSync('mkfifo', [join(dir, 'fifo')]).status === 0) {
    await expect(scratchSeedFromHost(dir, 'all')).rejects.toThrow(/fifo: not a regular file, directory or symlink/)
    rmSync(join(dir, 'fifo'))
  }
})

test('a guest reads what the host dir held, on this thread and on a pool worker', async () => {
  const policy = grant(DEFAULT_POLICY, { scratch: { maxBytes: 1024 } })
  const scratchSeed = await scratchSeedFromHost(join(dir, 'data'), 'data', { maxBytes: 1024 })
  await using s = new Scheduler()
  const stdout = new MemorySink()
  expect(await spawnGuest(s, await compileGuest(s, await G.wat(W.SEEDED_CAT)), { policy, stdout, scratchSeed }).wait()).toEqual({ kind: 'exited', code: 0 })
  expect(text(stdout)).toBe('from the host\n')
  const pool = await WorkerPool.start({ workers: 1 })
  try {
    const out = new MemorySink()
    const g = await spawnPoolGuest(pool, await compileGuest(pool, await G.wat(W.SEEDED_CAT)), { policy, stdout: out, scratchSeed })
    expect(await g.wait()).toEqual({ kind: 'exited', code: 0 })
    expect(text(out)).toBe('from the host\n')
  } finally { await pool.close() }
})
