// @ww/schema from its tarball: a generated struct written, framed and read back.
import assert from 'node:assert/strict'
import { Message } from 'capnp-ts'
import { common } from '@ww/schema'

const m = new Message()
const ref = m.initRoot(common.ProcessRef)
ref.setHost('host-a')
ref.setPid(42n)
const back = new Message(m.toArrayBuffer(), false).getRoot(common.ProcessRef)
assert.equal(back.getHost(), 'host-a')
assert.equal(back.getPid(), 42n)
console.log('ok @ww/schema')
