// What the benchmarks run: compiled guests (built once per process) and the in-process
// baselines (our RpcConnection pair, capnp-ts's own Conn over an in-process Transport).

import { Conn } from 'capnp-ts'
import type { Transport } from 'capnp-ts'
import { createPair } from '../pair.js'
import { testing } from '@ww/schema'
import { newEcho } from '@ww/schema/testing'
import { GuestConnection } from '../guest/connection.js'
import type { SuspensionMode } from '../guest/suspend.js'
import { Script, frames, wat2wasm, watSource } from './guests.js'

const { ping: PING, echo: ECHO } = testing.Echo$Methods

/** A script guest doing `n` round trips of `call`: send it, recv the Return, send Finish. */
export async function loopGuest(n: number, call: Uint8Array, asyncify: boolean, logBytes = 256 * 1024): Promise<WebAssembly.Module> {
  const s = new Script()
  s.logBytes = logBytes
  s.send(frames.bootstrap(0)).recv()
  const c = s.place(call)
  const fin = s.place(frames.finish(1))
  s.setCursor(s.logBase)
  const top = s.here
  s.send(c).recv().send(fin).setCursor(s.logBase).loop(n, top)
  return WebAssembly.compile((await s.build({ asyncify })) as Uint8Array<ArrayBuffer>)
}

// Calls target the bootstrap capability by its import id (0: the host's first export),
// as a guest SDK does once Bootstrap has returned (the pair baselines do the same).
export const pingCall = (): Uint8Array => frames.call(1, { cap: 0 }, PING)
export const echoCall = (bytes: number): Uint8Array =>
  frames.call(1, { cap: 0 }, ECHO, (p: testing.Echo_echo$Params) => p.setPayload(new Uint8Array(bytes).fill(0x5a)))

/** Instantiate and run one guest to its end; throws its typed error if it fails. */
export async function runOnce(module: WebAssembly.Module, opts: { transport: 'zero-copy' | 'copying'; suspension: SuspensionMode; server?: testing.Echo$Server }): Promise<void> {
  const g = new GuestConnection({ bootstrap: opts.server ?? newEcho(), transport: opts.transport, suspension: opts.suspension })
  const inst = await WebAssembly.instantiate(module, g.imports())
  g.attach(inst)
  await g.run()
}

/** The floor: `n` bare wasm→JS import calls, as one wasm loop. */
export async function floorGuest(): Promise<(n: number) => number> {
  const wasm = await wat2wasm(watSource('floor.wat'), 'floor.wat')
  const { instance } = await WebAssembly.instantiate(wasm as Uint8Array<ArrayBuffer>, { env: { f: (a: number, b: number) => (a ^ b) & 1 } })
  return instance.exports.run as (n: number) => number
}

/** Our RpcConnection pair: `n` sequential Echo.ping calls. */
export function rpcPair(): (n: number) => Promise<void> {
  const [client] = createPair({ b: { bootstrap: newEcho() } })
  const echo = client.bootstrap(testing.Echo)
  return async (n) => { for (let i = 0; i < n; i++) await echo.ping() }
}

/** capnp-ts's own Conn, two of them over an in-process pair of Transports (bytes, as on a socket). */
export function capnpTsPair(): (n: number) => Promise<void> {
  class PairTransport implements Transport {
    peer!: PairTransport
    #onMessage: ((d: Uint8Array) => void) | undefined
    #onClose: ((e?: Error) => void) | undefined
    close(): void { this.#onClose?.() }
    onClose(cb: (e?: Error) => void): void { this.#onClose = cb }
    onMessage(cb: (d: Uint8Array) => void): void { this.#onMessage = cb }
    send(data: Uint8Array): void { queueMicrotask(() => this.peer.#onMessage?.(data)) }
  }
  const a = new PairTransport()
  const b = new PairTransport()
  a.peer = b
  b.peer = a
  new Conn(b, { main: newEcho() })
  const echo = new Conn(a).bootstrap(testing.Echo)
  return async (n) => { for (let i = 0; i < n; i++) await echo.ping() }
}
