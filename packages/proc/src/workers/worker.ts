// A pool worker's entry point: one PoolScheduler on this thread, driven by messages from
// the main thread (spawn, kill, ps, deliver, close) and from the other workers (messages
// between processes, and their acknowledgements), over rings in shared memory and direct
// ports (peer-link.ts), read by the scheduler itself.

import { MessageChannel, parentPort, workerData, type MessagePort } from 'node:worker_threads'
import { observeFuel } from '../compile/instrument.js'
import { ProcessExitedError } from '../errors.js'
import type { ProcessHandle } from '../handle.js'
import type { ProcessContext, ProcModule } from '../scheduler.js'
import { combineParts, type ProcessPlugin } from '../compose/plugin.js'
import { loadExtensions } from './extensions.js'
import { workerWasiWith, type GuestSockets } from './guest-wasi.js'
import { openSocketGrants, type Binder, type Conn, type OpenedSockets } from '@ww/wasi-restricted'
import { PortBinder, PortConn } from './socket-port.js'
import { WASI_MODULE } from '../compose/wasi.js'
import { PoolScheduler } from './pool-scheduler.js'
import { serializeError, type FromWorker, type SocketReport, type SpawnRequest, type SuperviseRequest, type ToWorker, type WireMessage, type WorkerInit } from './protocol.js'
import { Supervisor } from '../supervisor.js'
import type { ExitStatus } from '../status.js'
import { portTransport } from './rpc-port-guest.js'

if (parentPort === null) throw new Error('@ww/proc pool worker: not started as a worker thread')
const main = parentPort
const init = workerData as WorkerInit
const modules = new Map<number, ProcModule>()

const toMain = (m: FromWorker, transfer: Array<ArrayBuffer | MessagePort> = []): void => main.postMessage(m, transfer)

/**
 * Fuel used per first-tier module, sent to the main thread at most every FUEL_REPORT_MS:
 * its upgrade to Binaryen's build follows the same fuel rule as for processes there.
 */
const FUEL_REPORT_MS = 100
const fuelUsed = new Map<number, number>()
let fuelTimer: ReturnType<typeof setTimeout> | undefined
function countFuel(module: number, fuel: number): void {
  fuelUsed.set(module, (fuelUsed.get(module) ?? 0) + fuel)
  fuelTimer ??= setTimeout(() => {
    fuelTimer = undefined
    for (const [id, used] of fuelUsed) toMain({ t: 'fuel', module: id, fuel: used })
    fuelUsed.clear()
  }, FUEL_REPORT_MS)
}

const sched = new PoolScheduler(init.index, init.workers, init.bell, init.scheduler, init.firstPid)

/** A message for one of our processes from the main thread; answered on `reply`. */
function deliver(m: WireMessage, reply: (r: number) => void): void {
  const r = sched.deliver(m)
  if (typeof r === 'number') reply(r)
  else void r.then(reply)
}

/** A spawn request made ready to run (its module found, its extensions loaded): call it to spawn, as often as needed. */
async function prepare(s: SpawnRequest, sockets?: GuestSockets): Promise<(parent: ProcessHandle | undefined) => ProcessHandle> {
  const mod = modules.get(s.module)
  if (mod === undefined) throw new Error(`module ${s.module} was never sent to this worker`)
  const rpc = s.rpc
  const hostKey = s.hostKey
  const wasi = s.wasi
  const plugins: ProcessPlugin[] = [
    ...await loadExtensions(s.extensions),
    ...(rpc ? [{ name: 'host (over a port to the main thread)', provides: ['ww'], create: (ctx) => portTransport(rpc, ctx) } satisfies ProcessPlugin] : []),
    // Started here, perhaps again and again (restarts): each start opens its own ports.
    ...(wasi !== undefined ? [{
      name: 'wasi', provides: [WASI_MODULE],
      create: (ctx) => {
        let output = wasi.output
        if (output === undefined && wasi.outputKey !== undefined) {
          const { port1, port2 } = new MessageChannel()
          toMain({ t: 'output-open', key: wasi.outputKey, pid: ctx.pid, port: port2 }, [port2])
          output = port1
        }
        const options = { ...(wasi.policy ? { policy: wasi.policy } : {}), ...(wasi.scratchSeed ? { scratchSeed: wasi.scratchSeed } : {}), ...(output ? { output } : {}), fds: wasi.fds }
        return workerWasiWith(options, sockets).create(ctx)
      },
    } satisfies ProcessPlugin] : []),
    ...(hostKey !== undefined ? [{
      name: 'host (over a port to the main thread)', provides: ['ww'],
      create: (ctx) => {
        const { port1, port2 } = new MessageChannel()
        toMain({ t: 'rpc-open', key: hostKey, pid: ctx.pid, port: port2 }, [port2])
        return portTransport(port1, ctx)
      },
    } satisfies ProcessPlugin] : []),
  ]
  // No parts, no extension: such a process stays hibernatable.
  const extend = plugins.length === 0 ? undefined : (ctx: ProcessContext) => combineParts(plugins, ctx)
  return (parent) => sched.spawn(mod, {
    ...s.limits, ...(s.name ? { name: s.name } : {}), ...(s.entry ? { entry: s.entry } : {}), ...(extend ? { extend } : {}),
    ...(parent ? { parent, link: s.link ?? false } : {}), trapExits: s.trapExits ?? false,
  })
}

/** The guest's sockets in fd order: those this worker opened, then those served from the spawner's thread. */
function guestSockets(opened: OpenedSockets | undefined, served: NonNullable<SpawnRequest['wasi']>['served']): GuestSockets {
  const listeners: Binder[] = [...opened?.listeners ?? [], ...(served?.listeners ?? []).map((p) => new PortBinder(p))]
  const conns: Conn[] = [...opened?.conns ?? [], ...(served?.conns ?? []).map((p) => new PortConn(p))]
  return { listeners, conns, close: () => { for (const l of listeners) l.close(); for (const c of conns) c.close() } }
}

/** The live pool process `pid` names (a request's parent), or ProcessExitedError. */
function parentOf(pid: number | undefined): ProcessHandle | undefined {
  if (pid === undefined) return undefined
  const parent = sched.process(pid)
  if (parent === undefined || !sched.isPoolProcess(pid)) throw new ProcessExitedError(pid)
  return parent
}

/** Tells the main thread the pid, then how it ended. */
function started(req: number, h: { readonly pid: number; wait(): Promise<ExitStatus> }): void {
  toMain({ t: 'spawned', req, pid: h.pid, next: sched.nextPid })
  void h.wait().then((status) => toMain({ t: 'exit', pid: h.pid, status }))
}

async function spawn(req: number, s: SpawnRequest): Promise<void> {
  let h: ProcessHandle
  let sockets: GuestSockets | undefined
  const served = s.wasi?.served
  try {
    // Opened here, on the thread that runs the guest: a node:net handle cannot cross threads.
    const grants = s.wasi?.sockets
    let opened: OpenedSockets | undefined
    if (grants !== undefined) {
      opened = await openSocketGrants(grants.grants)
      grants.report.postMessage({ listening: opened.listeners.map((l) => l.address) } satisfies SocketReport)
    }
    if (opened !== undefined || served !== undefined) sockets = guestSockets(opened, served)
    const start = await prepare(s, sockets)
    h = start(parentOf(s.parent))
  } catch (e) {
    sockets?.close()
    for (const p of [...served?.listeners ?? [], ...served?.conns ?? []]) p.close()
    s.wasi?.sockets?.report.close()
    s.wasi?.output?.close()
    s.rpc?.close()
    toMain({ t: 'failed', req, error: serializeError(e) })
    return
  }
  started(req, h)
}

/** A Supervisor on this worker: its children are spawned (and restarted) here. */
async function supervise(req: number, s: SuperviseRequest): Promise<void> {
  let sup: Supervisor
  try {
    const children = await Promise.all(s.children.map(async (c) => {
      const start = await prepare(c.spawn)
      return { id: c.id, ...(c.restart ? { restart: c.restart } : {}), start: (parent: ProcessHandle) => start(parent) }
    }))
    const parent = parentOf(s.parent)
    sup = new Supervisor(sched, {
      children, ...(s.maxRestarts !== undefined ? { maxRestarts: s.maxRestarts } : {}), ...(s.withinMs !== undefined ? { withinMs: s.withinMs } : {}),
      ...(s.name ? { name: s.name } : {}), ...(parent ? { parent } : {}),
    })
  } catch (e) {
    toMain({ t: 'failed', req, error: serializeError(e) })
    return
  }
  started(req, sup.self)
}

main.on('message', (msg: ToWorker) => {
  switch (msg.t) {
    case 'module':
      modules.set(msg.id, { module: msg.module, meter: msg.meter })
      if (msg.meter.tier === 'quick') observeFuel(msg.module, (fuel) => countFuel(msg.id, fuel))
      break
    case 'peer':
      sched.connect(msg.index, msg.port, msg.rings, msg.fence)
      break
    case 'peer-down':
      sched.peerDown(msg.index)
      break
    case 'spawn':
      void spawn(msg.req, msg.spawn)
      break
    case 'supervise':
      void supervise(msg.req, msg.supervise)
      break
    case 'link-signal': {
      const h = sched.isPoolProcess(msg.pid) ? sched.process(msg.pid) : undefined
      if (h !== undefined) sched.linkSignal(h, msg.from, msg.status)
      break
    }
    case 'kill':
      void sched.process(msg.pid)?.kill()
      break
    case 'deliver':
      deliver(msg.m, (r) => { if (msg.m.ack !== undefined) toMain({ t: 'delivered', ack: msg.m.ack, r }) })
      break
    case 'ps': {
      const rows = msg.pid === undefined
        ? sched.ps().filter((r) => sched.isPoolProcess(r.pid))
        : [sched.process(msg.pid)].filter((h) => h !== undefined && sched.isPoolProcess(h.pid)).map((h) => h!.info())
      toMain({ t: 'ps', req: msg.req, rows })
      break
    }
    case 'peek': {
      // Diagnostics: the next queued message's bytes as they are (shared ones stay
      // shared; others are cloned for the reply, never moved out of the mailbox).
      const h = sched.isPoolProcess(msg.pid) ? sched.process(msg.pid) : undefined
      const m = h?.proc.mailbox.peek()
      toMain({ t: 'peek', req: msg.req, bytes: m?.bytes })
      break
    }
    case 'stats':
      toMain({ t: 'stats', req: msg.req, counters: { ...sched.counters } })
      break
    case 'close':
      void sched.close().then(() => {
        for (let i = 0; i < init.workers; i++) sched.link(i)?.close()
        toMain({ t: 'closed', req: msg.req })
      })
      break
  }
})

toMain({ t: 'ready' })
