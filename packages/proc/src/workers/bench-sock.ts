// wasi.sock: a guest's socket on a pool worker (its listener bound there, from a
// SocketGrant) vs the same guest in-thread on a listener its spawner bound (listenTcp),
// same run, rounds interleaved. The guest is @ww/guest's wasi-http-server (accept, recv,
// send, poll_oneoff on WASI socket fds; its answer echoes the request's path); the load
// comes from bench-sock-client.js in a process of its own.
//
// - wasi.sock.echo.worker: µs per round trip on one keep-alive connection (a request
//   out, the whole answer back), median over the round trips of a run;
// - wasi.sock.rps.worker: answers per second over 16 keep-alive connections, each
//   waiting for its answer before the next request;
// - wasi.sock.echo.worker-served / .rps.worker-served: the same with the listener bound
//   on the main thread and served to the worker over a port (socket-port.ts), as a
//   socket that exists only there (one reached over RPC) must be.
// Run: node --expose-gc dist/bench/cli.js sock (from packages/proc, after the build).

import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { report } from '@ww/bench-kit'
import { guestBytes } from '@ww/guest'
import { DEFAULT_POLICY, grant, listenTcp } from '@ww/wasi-restricted'
import { Scheduler } from '../scheduler.js'
import { compileGuest, spawnGuest } from '../compose/spawn-guest.js'
import { spawnPoolGuest } from './guest.js'
import { WorkerPool } from './pool.js'

const CLIENT = fileURLToPath(new URL('./bench-sock-client.js', import.meta.url))
const RUNS = 5
const MS = 2000
const CONNECTIONS = 16

interface Load { readonly requests: number; readonly ms: number; readonly roundTripUs: number }

async function load(addr: string, connections: number, ms: number): Promise<Load> {
  const { stdout } = await promisify(execFile)(process.execPath, [CLIENT, addr, String(connections), String(ms)])
  return JSON.parse(stdout) as Load
}

export async function benchSock(): Promise<void> {
  const bytes = await guestBytes('wasi-http-server', { asyncify: false })
  const policy = grant(DEFAULT_POLICY, { sockets: { maxConnections: 64 } })
  await using s = new Scheduler()
  const pool = await WorkerPool.start({ workers: 1 })
  try {
    const listener = await listenTcp('127.0.0.1:0')
    const here = spawnGuest(s, await compileGuest(s, bytes), { policy, sockets: [listener] })
    const poolMod = await compileGuest(pool, bytes)
    const there = await spawnPoolGuest(pool, poolMod, { policy, socketGrants: [{ listen: '127.0.0.1:0' }] })
    const mainListener = await listenTcp('127.0.0.1:0')
    const served = await spawnPoolGuest(pool, poolMod, { policy, sockets: [mainListener] })
    const addrs = { here: listener.address, there: there.listening[0]!, served: mainListener.address }
    for (const a of Object.values(addrs)) await load(a, 1, 300) // warm-up (and all answer)
    const one = { here: [] as number[], there: [] as number[], served: [] as number[] }
    const many = { here: [] as number[], there: [] as number[], served: [] as number[] }
    for (let i = 0; i < RUNS; i++) {
      for (const k of ['here', 'there', 'served'] as const) {
        one[k].push((await load(addrs[k], 1, MS)).roundTripUs)
        const m = await load(addrs[k], CONNECTIONS, MS)
        many[k].push(m.requests / (m.ms / 1000))
      }
    }
    const params = { guest: 'wasi-http-server (@ww/guest, AssemblyScript)', workers: 1, msPerRun: MS, client: 'bench-sock-client.js, a separate process' }
    report({ name: 'wasi.sock.echo.worker', unit: 'µs', samples: one.there, baseline: { name: 'in-thread (listenTcp + spawnGuest)', samples: one.here }, params: { ...params, connections: 1 } })
    report({ name: 'wasi.sock.rps.worker', unit: 'req/s', samples: many.there, baseline: { name: 'in-thread (listenTcp + spawnGuest)', samples: many.here }, higherIsBetter: true, params: { ...params, connections: CONNECTIONS } })
    const servedParams = { ...params, listener: 'bound on the main thread, served to the worker over a MessagePort' }
    report({ name: 'wasi.sock.echo.worker-served', unit: 'µs', samples: one.served, baseline: { name: 'in-thread (listenTcp + spawnGuest)', samples: one.here }, params: { ...servedParams, connections: 1 } })
    report({ name: 'wasi.sock.rps.worker-served', unit: 'req/s', samples: many.served, baseline: { name: 'in-thread (listenTcp + spawnGuest)', samples: many.here }, higherIsBetter: true, params: { ...servedParams, connections: CONNECTIONS } })
    await Promise.all([there.kill(), served.kill(), here.kill()])
  } finally {
    await pool.close()
  }
}
