// Bindings for schemas/testing.capnp (Echo, Counter), written by hand in capnp-ts's
// generated style until @ww/capnpc emits them into @ww/schema. Used by the fuzz harness,
// the tests and the benchmarks of this package.

import { Client, Data, ObjectSize, RemotePromise, Server, Struct } from 'capnp-ts'
import type { Method, ParamsInit, ServerMethodImpl } from 'capnp-ts'
import { getInterfaceClient, setInterfaceClient } from 'capnp-ts/src/rpc/capability.js'
import type { ClientLike } from 'capnp-ts/src/rpc/capability.js'

const ECHO_ID = 0x8fd629c338ff292bn
const COUNTER_ID = 0xbda3e0f1a3acda10n

export class Empty extends Struct {
  static override readonly _capnp = { displayName: 'Empty', id: '0', size: new ObjectSize(0, 0) }
}
export class PayloadStruct extends Struct {
  static override readonly _capnp = { displayName: 'Payload', id: '1', size: new ObjectSize(0, 1) }
  getPayload(): Data { return Struct.getData(0, this) }
  hasPayload(): boolean { return !Struct.isNull(Struct.getPointer(0, this)) }
  initPayload(n: number): Data { return Struct.initData(0, n, this) }
  setPayload(bytes: Uint8Array): void { this.initPayload(bytes.byteLength).copyBuffer(bytes) }
}
export class CounterParams extends Struct {
  static override readonly _capnp = { displayName: 'counter$Params', id: '2', size: new ObjectSize(8, 0) }
  getStart(): bigint { return Struct.getUint64(0, this) }
  setStart(v: bigint): void { Struct.setUint64(0, v, this) }
}
export class CounterResults extends Struct {
  static override readonly _capnp = { displayName: 'counter$Results', id: '3', size: new ObjectSize(0, 1) }
  getCounter(): Counter_Client { return new Counter_Client(getInterfaceClient(0, this)) }
  setCounter(c: ClientLike): void { setInterfaceClient(0, c, this) }
}
export class AddParams extends Struct {
  static override readonly _capnp = { displayName: 'add$Params', id: '4', size: new ObjectSize(8, 0) }
  getN(): bigint { return Struct.getUint64(0, this) }
  setN(v: bigint): void { Struct.setUint64(0, v, this) }
}
export class AddResults extends Struct {
  static override readonly _capnp = { displayName: 'add$Results', id: '5', size: new ObjectSize(8, 0) }
  getTotal(): bigint { return Struct.getUint64(0, this) }
  setTotal(v: bigint): void { Struct.setUint64(0, v, this) }
}

export const EchoMethods = [
  { interfaceId: ECHO_ID, interfaceName: 'Echo', methodId: 0, methodName: 'ping', ParamsClass: Empty, ResultsClass: Empty },
  { interfaceId: ECHO_ID, interfaceName: 'Echo', methodId: 1, methodName: 'echo', ParamsClass: PayloadStruct, ResultsClass: PayloadStruct },
  { interfaceId: ECHO_ID, interfaceName: 'Echo', methodId: 2, methodName: 'counter', ParamsClass: CounterParams, ResultsClass: CounterResults },
] as const satisfies readonly Method<Struct, Struct>[]
export const CounterMethods = [
  { interfaceId: COUNTER_ID, interfaceName: 'Counter', methodId: 0, methodName: 'add', ParamsClass: AddParams, ResultsClass: AddResults },
] as const satisfies readonly Method<Struct, Struct>[]

export class Counter$Promise extends RemotePromise<CounterResults> {
  getCounter(): Counter_Client { return new Counter_Client(this.pipelineClient(0)) }
}

export class Counter_Client {
  static readonly interfaceId = COUNTER_ID
  constructor(readonly client: Client) {}
  add(p: ParamsInit<AddParams>): RemotePromise<AddResults> { return this.client.call(CounterMethods[0], p) }
  dispose(): void { this.client.dispose() }
}

export class Echo_Client {
  static readonly interfaceId = ECHO_ID
  constructor(readonly client: Client) {}
  ping(): RemotePromise<Empty> { return this.client.call(EchoMethods[0]) }
  echo(p: ParamsInit<PayloadStruct>): RemotePromise<PayloadStruct> { return this.client.call(EchoMethods[1], p) }
  counter(p: ParamsInit<CounterParams>): Counter$Promise { return this.client.call(EchoMethods[2], p, Counter$Promise) }
  dispose(): void { this.client.dispose() }
}

export interface EchoImpl {
  ping: ServerMethodImpl<Empty, Empty>
  echo: ServerMethodImpl<PayloadStruct, PayloadStruct>
  counter: ServerMethodImpl<CounterParams, CounterResults>
}
export interface CounterImpl {
  add: ServerMethodImpl<AddParams, AddResults>
}

export class Echo_Server extends Server {
  constructor(t: EchoImpl) {
    super([
      { ...EchoMethods[0], impl: t.ping.bind(t) },
      { ...EchoMethods[1], impl: t.echo.bind(t) },
      { ...EchoMethods[2], impl: t.counter.bind(t) },
    ])
  }
}
export class Counter_Server extends Server {
  constructor(t: CounterImpl) {
    super([{ ...CounterMethods[0], impl: t.add.bind(t) }])
  }
}

export class Echo extends Struct {
  static override readonly _capnp = { displayName: 'Echo', id: '8fd629c338ff292b', size: new ObjectSize(0, 0) }
  static readonly Client = Echo_Client
  static readonly Server = Echo_Server
}
export class Counter extends Struct {
  static override readonly _capnp = { displayName: 'Counter', id: 'bda3e0f1a3acda10', size: new ObjectSize(0, 0) }
  static readonly Client = Counter_Client
  static readonly Server = Counter_Server
}

/** A counter that adds `n` to a running total starting at `start`. */
export function newCounter(start: bigint): Counter_Server {
  let total = start
  return new Counter_Server({ add(p, r) { total += p.getN(); r.setTotal(total) } })
}

/** The reference Echo: ping does nothing, echo copies its payload, counter makes a Counter. */
export function newEcho(): Echo_Server {
  return new Echo_Server({
    ping() {},
    echo(p, r) {
      const src = p.getPayload().toUint8Array()
      r.initPayload(src.byteLength).copyBuffer(src)
    },
    counter(p, r) { r.setCounter(newCounter(p.getStart())) },
  })
}
