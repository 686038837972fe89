// The hosts a demo runs on: one embedded host in this process, or N `ww host` OS
// processes forming a js-libp2p cluster on 127.0.0.1 (the first listens, the others
// join through it). Either way the demo talks to each over its RPC endpoint.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { CliError } from '../errors.js'

export interface DemoHost {
  readonly id: string
  readonly rpc: string
  /** The OS process it runs in. */
  readonly pid: number
  readonly addresses: readonly string[]
}

export interface DemoCluster extends AsyncDisposable {
  readonly hosts: DemoHost[]
  readonly kind: 'embedded' | 'libp2p'
  /** Lines the hosts' processes printed, tagged by host. */
  onOutput(f: (host: DemoHost, pid: number, line: string) => void): void
  /** Stops every host; the exit statuses of the host processes (0 = clean). */
  close(): Promise<number[]>
}

const bin = fileURLToPath(new URL('../bin.js', import.meta.url))

/**
 * One embedded host in this process, served on a unix socket in a temporary $WW_HOME; it
 * keeps instrumented modules in `cache` (the user's: a second demo skips the pass).
 */
export async function embeddedDemo(cache: string): Promise<DemoCluster> {
  const home = mkdtempSync(join(tmpdir(), 'ww-demo-'))
  let output: (host: DemoHost, pid: number, line: string) => void = () => {}
  const { startHost } = await import('../host/node.js')
  let self!: DemoHost
  const h = await startHost({ home, moduleCache: join(cache, 'instrumented'), onOutput: (pid, _fd, line) => output(self, pid, line) })
  const r = h.publish()
  self = { id: r.id, rpc: r.rpc, pid: process.pid, addresses: [] }
  const close = async (): Promise<number[]> => { await h.close(); rmSync(home, { recursive: true, force: true }); return [0] }
  return { hosts: [self], kind: 'embedded', onOutput: (f) => { output = f }, close, [Symbol.asyncDispose]: async () => { await close() } }
}

interface Child { proc: ChildProcess; home: string; events: Array<Record<string, unknown>>; waiters: Set<() => void>; exited: Promise<number | null> }

function startChild(args: string[], cache: string, onLine: (e: Record<string, unknown>) => void): Child {
  const home = mkdtempSync(join(tmpdir(), 'ww-demo-'))
  // A generous membership TTL: metering and asyncifying the guest (Binaryen, synchronous)
  // holds a host's event loop for seconds on a busy machine, heartbeats included.
  const proc = spawn(process.execPath, [bin, 'host', '--json', '--ttl', '30s', ...args], {
    env: { ...process.env, WW_HOME: home, WW_CACHE: cache, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const c: Child = { proc, home, events: [], waiters: new Set(), exited: new Promise((r) => proc.once('exit', (code) => r(code))) }
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    let e: Record<string, unknown>
    try { e = JSON.parse(line) as Record<string, unknown> } catch { return }
    c.events.push(e)
    onLine(e)
    for (const w of c.waiters) w()
  })
  void c.exited.then(() => { for (const w of c.waiters) w() })
  return c
}

async function until(c: Child, pred: (e: Record<string, unknown>) => boolean, what: string, signal: AbortSignal): Promise<Record<string, unknown>> {
  for (;;) {
    const hit = c.events.find(pred)
    if (hit) return hit
    if (c.proc.exitCode !== null) throw new CliError('ERR_HOST_START', `a demo host exited (${c.proc.exitCode}) before ${what}`)
    if (signal.aborted) throw new CliError('ERR_HOST_START', `interrupted while waiting for ${what}`)
    await new Promise<void>((r) => {
      const w = (): void => { c.waiters.delete(w); signal.removeEventListener('abort', w); r() }
      c.waiters.add(w)
      signal.addEventListener('abort', w, { once: true })
    })
  }
}

/**
 * N `ww host` processes on 127.0.0.1: the first listens, the others join through it. Each
 * has a temporary $WW_HOME and shares `cache` ($WW_CACHE: the user's, safe for concurrent
 * writers) for instrumented modules.
 */
export async function libp2pDemo(n: number, cache: string, signal: AbortSignal, progress: (line: string) => void): Promise<DemoCluster> {
  let output: (host: DemoHost, pid: number, line: string) => void = () => {}
  const hosts: DemoHost[] = []
  const children: Child[] = []
  const onEvent = (i: number) => (e: Record<string, unknown>): void => {
    if (e.event === 'output' && hosts[i]) output(hosts[i]!, Number(e.pid), String(e.text))
    // A host that drops out of another's view mid-run explains a failed remote wait.
    if (e.event === 'leave' && hosts[i]) progress(`host ${i + 1} saw ${String(e.host)} leave (${String(e.reason)})`)
  }
  const stop = async (): Promise<number[]> => {
    for (const c of children) if (c.proc.exitCode === null) c.proc.kill('SIGTERM')
    const codes = await Promise.all(children.map((c) => c.exited))
    for (const c of children) rmSync(c.home, { recursive: true, force: true })
    return codes.map((code) => code ?? 1)
  }
  try {
    for (let i = 0; i < n; i++) {
      const args = i === 0 ? ['--listen', '/ip4/127.0.0.1/tcp/0'] : ['--join', hosts[0]!.addresses[0]!]
      const c = startChild(args, cache, onEvent(i))
      children.push(c)
      const r = await until(c, (e) => e.event === 'ready', `host ${i + 1} was ready`, signal)
      hosts.push({ id: String(r.id), rpc: String(r.rpc), pid: Number(r.pid), addresses: r.addresses as string[] })
      progress(`host ${i + 1}/${n} up: ${String(r.id)} (OS pid ${String(r.pid)})`)
    }
    // The first host must see every other one before it spreads work over the cluster.
    for (const h of hosts.slice(1)) await until(children[0]!, (e) => e.event === 'join' && e.host === h.id, `host 1 saw ${h.id}`, signal)
  } catch (e) {
    await stop()
    throw e
  }
  return { hosts, kind: 'libp2p', onOutput: (f) => { output = f }, close: stop, [Symbol.asyncDispose]: async () => { await stop() } }
}
