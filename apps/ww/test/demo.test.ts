// `ww demo` as a user runs it: the real binary, as a child process, to completion.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { bin } from './hosts.js'

const run = promisify(execFile)

interface Report {
  ok: boolean; cluster: string; hosts: string[]; total: number; expected: number; chunks: number
  perHost: Record<string, number>; coordinator: { pid: number; reason: string }
  processes: Array<{ host: string; pid: number; name: string }>; messages: string[]; hostExitCodes: number[]
}

test('ww demo --json: guests spawn workers, claim chunks in anchors, publish counts; the total is right', async () => {
  const { stdout } = await run(process.execPath, [bin, 'demo', '--json'], { timeout: 120_000 })
  const r = JSON.parse(stdout) as Report
  expect(r).toMatchObject({ ok: true, cluster: 'embedded', chunks: 8, coordinator: { reason: 'exited 0' }, hostExitCodes: [0] })
  expect(r.total).toBe(r.expected)
  // Every chunk was claimed by a worker on the one host, and announced on the topic.
  expect(r.perHost).toEqual({ [r.hosts[0]!]: 8 })
  expect(r.messages.filter((m) => /^host \w+ counted chunk \d: \d+ words$/.test(m))).toHaveLength(8)
  expect(r.messages.at(-1)).toBe('done: 2 workers on 1 host(s) all exited 0')
  // The live view saw the coordinator and the workers it spawned.
  expect(r.processes.map((p) => p.name).sort()).toEqual(['wc-coordinator', 'wc-worker-0', 'wc-worker-1'])
}, 120_000)

test('ww demo (human view): live process lines, topic lines, guest output tagged by host and pid, a summary', async () => {
  const { stdout } = await run(process.execPath, [bin, 'demo'], { timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } })
  expect(stdout).toMatch(/^ {2}metering the guest on the host…$/m)
  expect(stdout).toMatch(/^ {2}\+ A pid \d+ wc-coordinator started$/m)
  expect(stdout).toMatch(/^wordcount> host \w+ counted chunk 0: \d+ words$/m)
  expect(stdout).toMatch(/^\[A pid \d+\] spawned 2 workers on 1 host\(s\)$/m)
  expect(stdout).not.toMatch(/no job found/)
  expect(stdout).toMatch(/^ {2}total: (\d+) words \(checked: \1 counted here\)$/m)
  expect(stdout).toMatch(/^ok$/m)
}, 120_000)

test('ww demo --hosts 3: three ww host OS processes on libp2p; workers on every host; all stop cleanly', async () => {
  const { stdout } = await run(process.execPath, [bin, 'demo', '--hosts', '3', '--json'], { timeout: 180_000 })
  const r = JSON.parse(stdout) as Report
  expect(r).toMatchObject({ ok: true, cluster: 'libp2p', chunks: 8, coordinator: { reason: 'exited 0' }, hostExitCodes: [0, 0, 0] })
  expect(r.hosts).toHaveLength(3)
  expect(r.total).toBe(r.expected)
  // Chunks are dealt round-robin: 3, 3 and 2, each counted on its own host.
  expect(r.hosts.map((h) => r.perHost[h])).toEqual([3, 3, 2])
  expect(r.messages.at(-1)).toBe('done: 6 workers on 3 host(s) all exited 0')
  // Workers ran on every host (each host's own table showed its workers).
  for (const h of r.hosts) expect(r.processes.filter((p) => p.host === h && p.name.startsWith('wc-worker-'))).toHaveLength(2)
}, 180_000)

test('ww demo rejects arguments it does not take', async () => {
  await expect(run(process.execPath, [bin, 'demo', 'extra'])).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/unexpected argument 'extra'/) })
  await expect(run(process.execPath, [bin, 'demo', '--hosts', '9'])).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/--hosts must be a whole number from 1 to 5/) })
})
