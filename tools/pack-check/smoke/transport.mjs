// @ww/transport from its tarball: two connections in one process (createPair, frames
// encoded and read in place) and one call, over a one-method interface written against
// capnp-ts (transport's own dependency) so that nothing but transport is installed.
import assert from 'node:assert/strict'
import * as $ from 'capnp-ts'
import { asyncifyModule, createPair } from '@ww/transport'

class Params extends $.Struct {
  static _capnp = { displayName: 'Adder.add$Params', id: 'a0a0a0a0a0a0a0a1', size: new $.ObjectSize(8, 0) }
  getA() { return $.Struct.getUint32(0, this) }
  setA(v) { $.Struct.setUint32(0, v, this) }
  getB() { return $.Struct.getUint32(4, this) }
  setB(v) { $.Struct.setUint32(4, v, this) }
}
class Results extends $.Struct {
  static _capnp = { displayName: 'Adder.add$Results', id: 'a0a0a0a0a0a0a0a2', size: new $.ObjectSize(8, 0) }
  getSum() { return $.Struct.getUint32(0, this) }
  setSum(v) { $.Struct.setUint32(0, v, this) }
}
const ADD = { interfaceId: 0xa0a0a0a0a0a0a0a0n, interfaceName: 'Adder', methodId: 0, methodName: 'add', ParamsClass: Params, ResultsClass: Results }
class AddPromise extends $.RemotePromise {}
class AdderClient {
  static interfaceId = ADD.interfaceId
  constructor(client) { this.client = client }
  add(params) { return this.client.call(ADD, params, AddPromise) }
}
class AdderServer extends $.Server {
  constructor() { super([{ ...ADD, impl: (p, r) => r.setSum(p.getA() + p.getB()) }]) }
}
const Adder = { interfaceId: ADD.interfaceId, Client: AdderClient, Server: AdderServer }

const [client, server] = createPair({ frames: true, b: { bootstrap: new AdderServer() } })
const adder = client.bootstrap(Adder)
const r = await adder.add((p) => { p.setA(40); p.setB(2) })
assert.equal(r.getSum(), 42)
client.close()
server.close()

// Binaryen is an optional peer, not installed here: asyncifying says so, typed.
const empty = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0])
await assert.rejects(asyncifyModule(empty, { imports: [] }), (e) => e.code === 'ERR_ASYNCIFY' && /npm i binaryen/.test(e.message))
console.log('ok @ww/transport')
