// @ww/proc from its tarball: a metered module (pre-built bytes: it receives one message
// and exits with its first byte) spawned by the Scheduler; ps while it waits.
import assert from 'node:assert/strict'
import { Scheduler, describeStatus } from '@ww/proc'

// (module (import "ww_proc" "recv" …) (memory 1) ww_asyncify_data, ww_main: recv; load8_u 4096)
const EXIT_WITH_FIRST_BYTE = new Uint8Array([0,97,115,109,1,0,0,0,1,11,2,96,2,127,127,1,127,96,0,1,127,2,16,1,7,119,119,95,112,114,111,99,4,114,101,99,118,0,0,3,3,2,1,1,5,3,1,0,1,7,39,3,6,109,101,109,111,114,121,2,0,16,119,119,95,97,115,121,110,99,105,102,121,95,100,97,116,97,0,1,7,119,119,95,109,97,105,110,0,2,10,24,2,4,0,65,16,11,17,0,65,128,32,65,128,2,16,0,26,65,128,32,45,0,0,11,11,14,1,0,65,16,11,8,24,0,0,0,0,16,0,0])

const sched = new Scheduler({ maxProcesses: 4 })
const mod = await sched.compile(EXIT_WITH_FIRST_BYTE)
const p = sched.spawn(mod, { name: 'smoke', deadlineMs: 5_000 })
await p.send(new Uint8Array([42]))
const status = await p.wait()
assert.deepEqual(status, { kind: 'exited', code: 42 })
assert.equal(describeStatus(status), 'exited(42)')
await sched.close()
console.log('ok @ww/proc')
