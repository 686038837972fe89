// Every exit status crosses the wire field by field and reads back as it was written:
// the trap kind and code, who killed, which limit — none of it recovered from message text.

import { Message } from 'capnp-ts'
import { process as proc } from '@ww/schema'
import type { ExitStatus } from '@ww/interface'
import { readExitStatus, writeExitStatus } from './process.js'
import type { ProcessIdentity } from './host.js'

function roundTrip(s: ExitStatus, by?: ProcessIdentity): { wire: proc.ExitStatus; back: ExitStatus } {
  const m = new Message()
  const out = m.initRoot(proc.ExitStatus)
  writeExitStatus(out, s, by)
  // Through bytes, as another host would read it.
  const wire = new Message(m.toArrayBuffer(), false).getRoot(proc.ExitStatus)
  return { wire, back: readExitStatus(wire) }
}

test('each kind of status reads back as written', () => {
  const same: ExitStatus[] = [
    { kind: 'exited', code: 7 },
    { kind: 'trapped', reason: 'RuntimeError: unreachable', trap: 'unreachable', code: 'ERR_GUEST_TRAP' },
    { kind: 'trapped', reason: 'worker 1 crashed: boom', code: 'ERR_WORKER_CRASHED' },
    { kind: 'killed', reason: 'parentExited' },
    { kind: 'killed', reason: 'requested', by: { kind: 'process', host: 'h1', pid: 4 } },
    { kind: 'limit', which: 'time', detail: 'deadline of 50 ms' },
    { kind: 'limit', which: 'fuel' },
    { kind: 'limit', which: 'restarts', detail: 'more than 3 restarts in 1000 ms' },
    { kind: 'hostLost', host: 'h2' },
    { kind: 'failedToStart', reason: 'LinkError: import env.f is not offered' },
  ]
  expect(same.map((s) => roundTrip(s).back)).toEqual(same)
})

test('the trap kind is a field: a message naming another trap does not change it', () => {
  const { wire, back } = roundTrip({ kind: 'trapped', reason: 'divide by zero, said the guest', trap: 'badFrame', code: 'ERR_BAD_FRAME' })
  expect(wire.getTrapped().getKind()).toBe(proc.TrapKind.BAD_FRAME)
  expect(back).toMatchObject({ trap: 'badFrame', code: 'ERR_BAD_FRAME' })
  // Without a kind, the code decides; without either, other.
  expect(roundTrip({ kind: 'trapped', reason: 'unreachable', code: 'ERR_GUEST_MEMORY' }).back).toMatchObject({ trap: 'badFrame' })
  expect(roundTrip({ kind: 'trapped', reason: 'unreachable' }).back).toEqual({ kind: 'trapped', reason: 'unreachable' })
})

test("a requested kill names the Process capability's holder; a scheduler's killer stays local", () => {
  const { wire, back } = roundTrip({ kind: 'killed', by: { kind: 'parent', pid: 3 } }, { host: 'hA', pid: 9n })
  expect([wire.getKilled().getReason(), wire.getKilled().getBy().getHost()]).toEqual([proc.KillReason.REQUESTED, 'hA'])
  expect(back).toEqual({ kind: 'killed', reason: 'requested', by: { kind: 'process', host: 'hA', pid: 9 } })
  expect(roundTrip({ kind: 'killed', reason: 'hostShutdown' }, { host: 'hA', pid: 9n }).back).toEqual({ kind: 'killed', reason: 'hostShutdown' })
})

test('limits keep which and detail apart', () => {
  const { wire } = roundTrip({ kind: 'limit', which: 'memory', detail: 'grow by 4 pages over the cap of 16' })
  expect([wire.getLimitExceeded().getWhich(), wire.getLimitExceeded().getDetail()]).toEqual([proc.Limit.MEMORY, 'grow by 4 pages over the cap of 16'])
})
