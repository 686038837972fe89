// Guests serving guests, on one thread:
// - transport.guest-serves.null-call: guest A calls an Echo that guest B serves, through
//   the host (A's capability is a host forwarder to B's bootstrap, as a registry find or a
//   Process.bootstrap hands out), vs A calling an Echo the host itself serves, interleaved.
// - transport.guest-serves.payload: 1 MiB of Data from guest A to guest B and back, with
//   the frames and copies each path makes counted on both connections.

import { measure, median, report } from '@ww/bench-kit'
import { guestBytes } from '@ww/guest'
import { forwardingServer } from '@ww/host'
import { testing } from '@ww/schema'
import { newEcho } from '@ww/schema/testing'
import { asyncifyModule, GuestConnection } from '@ww/transport'
import type { Client } from 'capnp-ts'

type Transport = 'zero-copy' | 'copying'

interface Served { client: Client; conn: GuestConnection; done: Promise<void> }

/** Guest B: serve-echo, serving until its connection closes. */
async function startServer(module: WebAssembly.Module, transport: Transport): Promise<Served> {
  const conn = new GuestConnection({ bootstrap: new testing.Echo.Server({ ping() {}, echo() {}, counter() {} }), suspension: 'asyncify', transport })
  const inst = await WebAssembly.instantiate(module, { ...conn.imports(), env: { abort: () => { throw new Error('serve-echo aborted') } } })
  conn.attach(inst)
  const done = conn.run().then(() => {}, () => {})
  return { client: conn.rpc.bootstrapClient(), conn, done }
}

/** Guest A: call-loop, `n` calls on `bootstrap`, to its end. */
async function callLoop(module: WebAssembly.Module, bootstrap: testing.Echo$Server | ReturnType<typeof forwardingServer>, n: number, payloadBytes: number, transport: Transport): Promise<GuestConnection> {
  const conn = new GuestConnection({ bootstrap, suspension: 'asyncify', transport })
  const inst = await WebAssembly.instantiate(module, { ...conn.imports(), env: { abort: () => { throw new Error('call-loop aborted') } } })
  conn.attach(inst)
  ;(inst.exports.ww_bench_set as (n: number, b: number) => void)(n, payloadBytes)
  const code = await conn.run()
  if (code !== 0) throw new Error(`call-loop exited ${String(code)}`)
  return conn
}

async function modules(): Promise<{ caller: WebAssembly.Module; server: WebAssembly.Module }> {
  const [caller, server] = await Promise.all([guestBytes('call-loop'), guestBytes('serve-echo')])
  return { caller: await WebAssembly.compile(caller), server: await WebAssembly.compile(server) }
}

export async function benchServe(iterations = 5_000, runs = 7): Promise<void> {
  const { caller, server } = await modules()
  const b = await startServer(server, 'zero-copy')
  const hostEcho = newEcho()
  const viaHost = forwardingServer(b.client)
  // CPU time per call too (this process, every thread): on a loaded machine the wall
  // time of a run includes the time other processes had the CPU, the CPU time does not.
  const cpu = { served: [] as number[], host: [] as number[] }
  const timed = async (k: keyof typeof cpu, n: number, target: testing.Echo$Server | ReturnType<typeof forwardingServer>): Promise<void> => {
    const c0 = process.cpuUsage()
    await callLoop(caller, target, n, 0, 'zero-copy')
    const c = process.cpuUsage(c0)
    cpu[k].push(((c.user + c.system) * 1000) / n)
  }
  const s = await measure([
    { name: 'served', fn: (n) => timed('served', n, viaHost) },
    { name: 'host', fn: (n) => timed('host', n, hostEcho) },
  ], { iterations, runs })
  const ratio = median(s.get('served')!) / median(s.get('host')!)
  const cpuServed = median(cpu.served.slice(-runs))
  const cpuHost = median(cpu.host.slice(-runs))
  report({
    name: 'transport.guest-serves.null-call', unit: 'ns/op', samples: s.get('served')!,
    baseline: { name: 'guest → host null call (the host serves the Echo)', samples: s.get('host')! },
    params: {
      iterations, path: 'guest A → host forwarder → guest B (SDK server), one thread, asyncify', multipleOfHostCall: Math.round(ratio * 100) / 100, goal: '≤ 3× the guest → host call',
      cpuNsPerCall: Math.round(cpuServed), hostCallCpuNsPerCall: Math.round(cpuHost), cpuMultipleOfHostCall: Math.round((cpuServed / cpuHost) * 100) / 100,
    },
  })
  await payload(caller, server, b)
  b.conn.close()
  await b.done
}

async function payload(caller: WebAssembly.Module, server: WebAssembly.Module, zeroCopy: Served, bytes = 1 << 20, iterations = 20, runs = 5): Promise<void> {
  const copying = await startServer(server, 'copying')
  const viaZero = forwardingServer(zeroCopy.client)
  const viaCopy = forwardingServer(copying.client)
  const s = await measure([
    { name: 'zero-copy', fn: async (n) => { await callLoop(caller, viaZero, n, bytes, 'zero-copy') } },
    { name: 'copying', fn: async (n) => { await callLoop(caller, viaCopy, n, bytes, 'copying') } },
  ], { iterations, runs })
  // Host-side copies on the zero-copy path, counted over one more run on both connections
  // and the forwarder: frames copied out of guest memory before decoding, deferred copies
  // (a frame kept past its receive), and the forwarder's own copies (params into its
  // outgoing call, results into its Return). Writing a frame into the receiving guest's
  // memory is the delivery itself, on either path, and not counted.
  const b = zeroCopy.conn
  const before = { f: { ...viaZero.stats }, framesCopied: b.stats.copiedFrames, deferred: b.rpc.stats.deferredCopies }
  const a = await callLoop(caller, viaZero, iterations, bytes, 'zero-copy')
  const calls = viaZero.stats.calls - before.f.calls
  const forwarderCopies = viaZero.stats.copies - before.f.copies
  const callerCopies = a.stats.copiedFrames + a.rpc.stats.deferredCopies
  const serverCopies = b.stats.copiedFrames - before.framesCopied + b.rpc.stats.deferredCopies - before.deferred
  const per = (x: number): number => Math.round((x / calls) * 100) / 100
  report({
    name: 'transport.guest-serves.payload', unit: 'ns/op', samples: s.get('zero-copy')!,
    baseline: { name: 'copying transports on both guests', samples: s.get('copying')! },
    params: {
      payloadBytes: bytes, iterations, path: 'echo(1 MiB): guest A → host forwarder → guest B and back',
      hostCopiesPerDirection: per((forwarderCopies + callerCopies + serverCopies) / 2),
      forwarderCopiesPerCall: per(forwarderCopies),
      forwarderBytesCopiedPerCall: Math.round((viaZero.stats.copiedBytes - before.f.copiedBytes) / calls),
      callerConnectionCopiesPerCall: per(callerCopies),
      serverConnectionCopiesPerCall: per(serverCopies),
    },
  })
  copying.conn.close()
  await copying.done
}
