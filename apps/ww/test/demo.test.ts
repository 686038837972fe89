// `ww demo` as a user runs it: the real binary, as a child process.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url))
const run = promisify(execFile)

test('ww demo --json: the guest uses its Host (info, view, anchors, pubsub) and exits 0', async () => {
  const { stdout } = await run(process.execPath, [bin, 'demo', '--json'], { timeout: 60_000 })
  const r = JSON.parse(stdout)
  expect(r.ok).toBe(true)
  expect(r.code).toBe(0)
  expect(r.output).toEqual([
    `hello from a guest on host ${r.host} (ww 0.1.0)`,
    'the cluster has 1 host(s)',
    'wrote demo/greeting (version 1)',
    'read it back: "hello, anchors"',
    'published on topic demo',
  ])
  // What the guest did is visible from the host side.
  expect(r.anchor).toBe('hello, anchors')
  expect(r.published).toEqual([`hi from ${r.host}`])
  // Every frame was read in place; the calls went through the RPC connection.
  expect(r.transport.copiedFrames).toBe(0)
  expect(r.rpc.callsIn).toBeGreaterThanOrEqual(10)
  expect(r.deniedSyscalls).toEqual({})
})

test('ww demo (human view) prints the guest lines tagged with its pid and a summary', async () => {
  const { stdout } = await run(process.execPath, [bin, 'demo'], { timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } })
  expect(stdout).toMatch(/^\[pid 1\] read it back: "hello, anchors"$/m)
  expect(stdout).toMatch(/^pid 1 exited 0 in [\d.]+ ms$/m)
})

test('ww demo rejects arguments it does not take', async () => {
  await expect(run(process.execPath, [bin, 'demo', 'extra'])).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/unexpected argument 'extra'/) })
})
