// `ww demo` as a user runs it: the real binary, as a child process, to completion.
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { bin } from './hosts.js'

const run = promisify(execFile)
// The demo keeps instrumented modules in the user's cache ($WW_CACHE): here, one of its own.
const cache = mkdtempSync(join(tmpdir(), 'ww-demo-cache-'))
afterAll(() => rmSync(cache, { recursive: true, force: true }))
const env = { ...process.env, WW_CACHE: cache, NO_COLOR: '1' }

interface Report {
  ok: boolean; cluster: string; hosts: string[]; total: number; expected: number; chunks: number
  perHost: Record<string, number>; coordinator: { pid: number; reason: string }
  processes: Array<{ host: string; pid: number; name: string }>; messages: string[]; hostExitCodes: number[]
}

test('ww demo: guests spawn workers, claim chunks in anchors, publish counts; live view, checked total', async () => {
  const { stdout } = await run(process.execPath, [bin, 'demo'], { timeout: 120_000, env })
  expect(stdout).toMatch(/^ {2}metering the guest on the host…$/m)
  expect(stdout).toMatch(/^ {2}\+ A pid \d+ wc-coordinator started$/m)
  // Every chunk counted by a worker and announced on the topic, then the coordinator's line.
  expect(stdout.match(/^wordcount> host \w+ counted chunk \d: \d+ words$/gm)).toHaveLength(8)
  expect(stdout).toMatch(/^wordcount> done: 2 workers on 1 host\(s\) all exited 0$/m)
  // The live view samples the process tables every 50 ms: the coordinator (alive throughout)
  // is certainly in it, start and end.
  expect(stdout).toMatch(/^ {2}- A pid \d+ wc-coordinator ended$/m)
  expect(stdout).toMatch(/^ {2}chunks counted per host: A 8 \(of 8\)$/m)
  expect(stdout).toMatch(/^\[A pid \d+\] spawned 2 workers on 1 host\(s\)$/m)
  expect(stdout).not.toMatch(/no job found/)
  expect(stdout).toMatch(/^ {2}total: (\d+) words \(checked: \1 counted here\)$/m)
  expect(stdout).toMatch(/^ok$/m)
  // Its temporary home is gone, the instrumented guest stays for the next demo or ww run.
  expect(readdirSync(join(cache, 'instrumented')).length).toBeGreaterThan(0)
}, 120_000)

test('ww demo --hosts 3: three ww host OS processes on libp2p; workers on every host; all stop cleanly', async () => {
  const { stdout } = await run(process.execPath, [bin, 'demo', '--hosts', '3', '--json'], { timeout: 180_000, env })
  const r = JSON.parse(stdout) as Report
  expect(r).toMatchObject({ ok: true, cluster: 'libp2p', chunks: 8, coordinator: { reason: 'exited 0' }, hostExitCodes: [0, 0, 0] })
  expect(r.hosts).toHaveLength(3)
  expect(r.total).toBe(r.expected)
  // Chunks are dealt round-robin: 3, 3 and 2, each counted on its own host.
  expect(r.hosts.map((h) => r.perHost[h])).toEqual([3, 3, 2])
  expect(r.messages.at(-1)).toBe('done: 6 workers on 3 host(s) all exited 0')
  // The live view saw the coordinator on the first host, and nothing but the job's processes.
  expect(r.processes).toContainEqual({ host: r.hosts[0], pid: r.coordinator.pid, name: 'wc-coordinator' })
  for (const p of r.processes) expect(p.name).toMatch(/^wc-(coordinator|worker-[0-5])$/)
}, 180_000)

test('ww demo rejects arguments it does not take', async () => {
  await expect(run(process.execPath, [bin, 'demo', 'extra'])).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/unexpected argument 'extra'/) })
  await expect(run(process.execPath, [bin, 'demo', '--hosts', '9'])).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/--hosts must be a whole number from 1 to 5/) })
})
