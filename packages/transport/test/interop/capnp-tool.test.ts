// Interop with the official capnp tool: a message it encodes decodes in place with
// readFrame, and a frame we write decodes with `capnp decode`.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { Message } from 'capnp-ts'
import { Message as RpcMessage } from 'capnp-ts/src/std/rpc.capnp.js'
import { readFrame, writeFrame, frameSize } from '../../src/frame.js'

const RPC = '/usr/include/capnp/rpc.capnp'
const capnp = ['/usr/bin/capnp', '/usr/local/bin/capnp'].find((p) => existsSync(p))
const ready = capnp !== undefined && existsSync(RPC)
if (!ready) console.warn(`SKIPPED interop with the capnp tool: ${capnp === undefined ? 'capnp' : RPC} is not installed (apt-get install capnproto libcapnp-dev)`)
const maybe = ready ? describe : describe.skip

maybe('interop with capnp encode/decode', () => {
  it('decodes a frame written by `capnp encode` in place', () => {
    const text = '(call = (questionId = 5, target = (promisedAnswer = (questionId = 2, transform = [(getPointerField = 1)])), interfaceId = 0x8fd629c338ff292b, methodId = 1, params = (capTable = [(senderHosted = 4), (receiverHosted = 9)])))'
    const bin = execFileSync(capnp!, ['encode', RPC, 'Message'], { input: text })
    const buf = new Uint8Array(bin.byteLength + 64)
    buf.set(bin, 64)
    const r = readFrame(buf.buffer, 64, bin.byteLength)
    expect(r.borrowed).toBe(true)
    expect(r.bytes).toBe(bin.byteLength)
    const call = r.message.getRoot(RpcMessage).getCall()
    expect(call.getQuestionId()).toBe(5)
    expect(call.getInterfaceId()).toBe(0x8fd629c338ff292bn)
    const pa = call.getTarget().getPromisedAnswer()
    expect(pa.getQuestionId()).toBe(2)
    expect(pa.getTransform().get(0).getGetPointerField()).toBe(1)
    const caps = call.getParams().getCapTable()
    expect(caps.get(0).getSenderHosted()).toBe(4)
    expect(caps.get(1).getReceiverHosted()).toBe(9)
  })

  it('writes a frame that `capnp decode` reads', () => {
    const m = new Message()
    const ret = m.initRoot(RpcMessage).initReturn()
    ret.setAnswerId(77)
    ret.setReleaseParamCaps(false)
    ret.initException().setReason('ERR_CAP_DENIED: not yours')
    const out = new Uint8Array(frameSize(m))
    expect(writeFrame(m, out)).toBe(out.byteLength)
    const text = execFileSync(capnp!, ['decode', RPC, 'Message'], { input: out }).toString()
    expect(text).toContain('answerId = 77')
    expect(text).toContain('releaseParamCaps = false')
    expect(text).toContain('reason = "ERR_CAP_DENIED: not yours"')
  })
})
