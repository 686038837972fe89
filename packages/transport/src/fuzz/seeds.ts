// Valid frames the fuzzer starts from: every RPC message kind we handle, with params,
// cap tables, pipelining transforms, and a hand-built multi-segment frame with far pointers.

import { Message } from 'capnp-ts'
import { Message as RpcMessage } from 'capnp-ts/src/std/rpc.capnp.js'
import type { Payload } from 'capnp-ts/src/std/rpc.capnp.js'
import { initStructAt } from 'capnp-ts/src/serialization/pointers/struct.js'
import { frameSize, writeFrame } from '../frame.js'
import { testing } from '@ww/schema'

function framed(m: Message): Uint8Array {
  const out = new Uint8Array(frameSize(m))
  writeFrame(m, out)
  return out
}

function build(f: (root: RpcMessage) => void): Uint8Array {
  const m = new Message()
  f(m.initRoot(RpcMessage))
  return framed(m)
}

function caps(p: Payload): void {
  const t = p.initCapTable(4)
  t.get(0).setSenderHosted(1)
  t.get(1).setReceiverHosted(0)
  t.get(2).initReceiverAnswer().setQuestionId(0)
  t.get(3).setNone()
}

export function seedFrames(): Uint8Array[] {
  const seeds: Uint8Array[] = [
    build((r) => r.initBootstrap().setQuestionId(1)),
    build((r) => {
      const c = r.initCall()
      c.setQuestionId(2); c.setInterfaceId(testing.Echo$Methods.echo.interfaceId); c.setMethodId(testing.Echo$Methods.echo.methodId)
      c.initTarget().setImportedCap(0)
      const p = c.initParams()
      initStructAt(0, testing.Echo_echo$Params, p).setPayload(new Uint8Array(40).fill(7))
      caps(p)
    }),
    build((r) => {
      const c = r.initCall()
      c.setQuestionId(3); c.setInterfaceId(testing.Echo$Methods.counter.interfaceId); c.setMethodId(testing.Echo$Methods.counter.methodId)
      const pa = c.initTarget().initPromisedAnswer()
      pa.setQuestionId(0)
      pa.initTransform(2).get(1).setGetPointerField(0)
      initStructAt(0, testing.Echo_counter$Params, c.initParams()).setStart(5n)
    }),
    build((r) => {
      const ret = r.initReturn()
      ret.setAnswerId(0)
      caps(ret.initResults())
    }),
    build((r) => { const e = r.initReturn(); e.setAnswerId(0); e.initException().setReason('ERR_X: nope') }),
    build((r) => { const e = r.initReturn(); e.setAnswerId(0); e.setCanceled() }),
    build((r) => { r.initFinish().setQuestionId(0) }),
    build((r) => { const x = r.initRelease(); x.setId(0); x.setReferenceCount(1) }),
    build((r) => { const d = r.initDisembargo(); d.initTarget().setImportedCap(0); d.getContext().setSenderLoopback(3) }),
    build((r) => { const x = r.initResolve(); x.setPromiseId(4); x.initCap().setSenderHosted(9) }),
    build((r) => { r.initProvide().setQuestionId(9) }),
    build((r) => { r.initAbort().setReason('bye') }),
  ]
  // Two segments: root is a far pointer to a struct in segment 1 (a Bootstrap message).
  const far = new Uint8Array(16 + 8 + 24)
  const dv = new DataView(far.buffer)
  dv.setUint32(0, 1, true); dv.setUint32(4, 1, true); dv.setUint32(8, 3, true)
  dv.setUint32(16, 2, true); dv.setUint32(20, 1, true) // far -> seg 1, word 0
  dv.setUint32(24, 0, true); dv.setUint32(28, 1 | (1 << 16), true) // struct 1 data, 1 ptr, offset 0
  dv.setUint16(32 + 6, 8, true) // Message.which = bootstrap... (data word at seg1 word 1)
  seeds.push(far)
  return seeds
}
