// The README's commands, run as written through the real `ww` command: a host, the
// provider spawned on it, the client spawned and waited for (exit 0, the answers checked
// by the client itself and its lines read from the host's log). Then across two hosts
// (js-libp2p on 127.0.0.1): the provider on A, the client spawned onto B.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const repo = join(here, '..', '..', '..')
// The ww command of this repository (apps/ww, built by the setup).
const bin = join(repo, 'apps', 'ww', 'dist', 'bin.js')

type Event = { event: string; [k: string]: unknown }

class Host {
  readonly events: Event[] = []
  readonly #waiters = new Set<() => void>()
  constructor(readonly child: ChildProcess, readonly home: string) {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      try { this.events.push(JSON.parse(l) as Event) } catch { /* not an event */ }
      for (const w of this.#waiters) w()
    })
    child.once('exit', () => { for (const w of this.#waiters) w() })
  }
  async next(pred: (e: Event) => boolean, what: string): Promise<Event> {
    for (;;) {
      const hit = this.events.find(pred)
      if (hit) return hit
      if (this.child.exitCode !== null) throw new Error(`ww host exited before ${what}`)
      await new Promise<void>((r) => { const w = (): void => { this.#waiters.delete(w); r() }; this.#waiters.add(w) })
    }
  }
  output(): string[] { return this.events.filter((e) => e.event === 'output').map((e) => String(e.text)) }
  /** Waits for the output line `line`; fails at once on a line to stderr (a guest's failure). */
  async said(line: string): Promise<void> {
    const hit = await this.next((e) => e.event === 'output' && (e.text === line || e.fd === 2), `the line "${line}"`)
    if (hit.text !== line) throw new Error(`waiting for "${line}", a guest said on stderr: ${String(hit.text)}`)
  }
  async stop(): Promise<void> {
    if (this.child.exitCode === null) { this.child.kill('SIGTERM'); await new Promise((r) => this.child.once('exit', r)) }
    rmSync(this.home, { recursive: true, force: true })
  }
}

function startHost(args: string[]): Host {
  const home = mkdtempSync(join(tmpdir(), 'ww-kv-'))
  const child = spawn(process.execPath, [bin, 'host', '--json', ...args], { cwd: repo, env: { ...process.env, WW_HOME: home, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
  return new Host(child, home)
}

function ww(args: string[], host: Host): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [bin, ...args], { cwd: repo, env: { ...process.env, WW_HOME: host.home, NO_COLOR: '1' } }, (err, stdout, stderr) => {
      const status = err ? (err as { code?: unknown }).code : 0
      if (typeof status !== 'number') return reject(err)
      resolve({ status, stdout, stderr })
    })
  })
}

/** The README's first `sh` block: its command lines, comments dropped. */
function readmeCommands(): string[][] {
  const md = readFileSync(join(here, '..', 'README.md'), 'utf8')
  const block = /```sh\n([\s\S]*?)```/.exec(md)![1]!
  return block.split('\n').map((l) => l.replace(/#.*$/, '').trim()).filter(Boolean).map((l) => l.split(/\s+/))
}

const hosts: Host[] = []
afterEach(async () => { for (const h of hosts.splice(0)) await h.stop() })

test('the README, as written: a host, the provider, the client (exit 0, every answer checked)', async () => {
  const cmds = readmeCommands()
  expect(cmds.map((c) => c.slice(0, 2).join(' '))).toEqual(['ww host', 'ww spawn', 'ww spawn'])
  let host: Host | undefined
  let last: { status: number; stdout: string; stderr: string } | undefined
  for (const [ww0, ...args] of cmds) {
    expect(ww0).toBe('ww')
    if (args[0] === 'host') {
      host = startHost(args.slice(1).filter((a) => a !== '&'))
      hosts.push(host)
      await host.next((e) => e.event === 'ready', 'ready')
      continue
    }
    last = await ww(args, host!)
    if (args.includes('--name')) await host!.said('providing kv as kv')
  }
  expect(last!.status).toBe(0)
  const out = host!.output()
  expect(out).toContain('users/ada = lovelace')
  expect(out).toContain('keys: greeting, users/ada')
  expect(out).toEqual(expect.arrayContaining(['stored greeting (version 1)', 'stored users/ada (version 2)']))
}, 240_000) // the host meters and instruments each 80 KiB guest first: seconds, more on a loaded machine

test('across hosts: the provider on A, the client on B finds it and calls it, pipelining on the view A returns', async () => {
  const a = startHost(['--listen', '/ip4/127.0.0.1/tcp/0', '--ttl', '60s'])
  hosts.push(a)
  const ra = await a.next((e) => e.event === 'ready', 'A ready')
  const b = startHost(['--join', (ra.addresses as string[])[0]!, '--ttl', '60s'])
  hosts.push(b)
  const rb = await b.next((e) => e.event === 'ready', 'B ready')
  await a.next((e) => e.event === 'join' && e.host === rb.id, 'B joined A')
  expect((await ww(['spawn', 'examples/kv-service/build/provider.wasm', '--name', 'kv-provider'], a)).status).toBe(0)
  await a.said('providing kv as kv')
  const r = await ww(['spawn', 'examples/kv-service/build/client.wasm', '--wait', '--json'], b)
  expect(JSON.parse(r.stdout)).toMatchObject({ host: rb.id, status: { kind: 'exited', code: 0 } })
  expect(b.output()).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^found kv at ${String(ra.id)}/\\d+$`)), 'users/ada = lovelace', 'keys: greeting, users/ada']))
  // The calls ran on A, in its provider.
  expect(a.output()).toEqual(expect.arrayContaining(['stored greeting (version 1)', 'stored users/ada (version 2)']))
}, 240_000)
