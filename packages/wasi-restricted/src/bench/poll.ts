// wasi.poll.many-fds: one ready connection among 1,000 idle ones vs among 10 (issue 17: a
// guest polling hundreds of fds must cost O(ready), not O(subscriptions), per wake). Each
// operation of the row: poll_oneoff over every connection finds none ready and waits; a
// peer writes one byte to connection i in the next turn (its watch fires and marks the sub
// due); the wake scans what is due and answers with it; the guest's read drains it.
// wasi.poll.many-fds.ready-at-call: the same, but the byte is written before the call, so
// the call answers at once: there what grows with N is the check that the subscription
// bytes are the last call's (one memcmp of N × 48 bytes; the guest wrote those bytes).

import { measure, report } from '@ww/bench-kit'
import { createWasi, DEFAULT_POLICY, grant, MemoryListener, MemorySink, type Conn } from '../index.js'

const SUBS = 65536, IOV = 1024, BUF = 2048, N_PTR = 4096

function pollOver(fds: number, waiting: boolean): (iterations: number) => void | Promise<void> {
  const listener = new MemoryListener()
  const peers: Conn[] = [], conns: Conn[] = []
  for (let i = 0; i < fds; i++) { peers.push(listener.connect()); conns.push(listener.accept()!) }
  const sink = new MemorySink()
  const wasi = createWasi(grant(DEFAULT_POLICY, { sockets: { maxConnections: fds }, maxFds: fds + 8 }), {
    processId: 'bench', sinks: { stdout: sink, stderr: sink }, conns, suspend: (fn) => fn as (...a: number[]) => number,
  })
  const memory = new WebAssembly.Memory({ initial: 4 })
  wasi.attach(memory)
  const dv = new DataView(memory.buffer)
  for (let i = 0; i < fds; i++) {
    const o = SUBS + i * 48
    dv.setBigUint64(o, BigInt(i), true)
    dv.setUint8(o + 8, 1) // fd_read
    dv.setUint32(o + 16, 3 + i, true)
  }
  const events = SUBS + fds * 48
  dv.setUint32(IOV, BUF, true); dv.setUint32(IOV + 4, 16, true)
  const poll = wasi.imports.poll_oneoff as unknown as (...a: number[]) => number
  const pollAsync = wasi.imports.poll_oneoff as unknown as (...a: number[]) => Promise<number>
  const read = wasi.imports.fd_read as unknown as (...a: number[]) => number
  const byte = new Uint8Array([1])
  let next = 0
  if (waiting) {
    return async (iterations) => {
      for (let k = 0; k < iterations; k++) {
        const i = next
        next = (next + 7) % fds
        const p = pollAsync(SUBS, events, fds, N_PTR)
        setImmediate(() => peers[i]!.write(byte))
        if (await p !== 0 || dv.getUint32(N_PTR, true) !== 1 || dv.getUint32(events, true) !== i) throw new Error('poll did not answer the ready fd')
        if (read(3 + i, IOV, 1, N_PTR) !== 0) throw new Error('read failed')
      }
    }
  }
  return (iterations) => {
    for (let k = 0; k < iterations; k++) {
      const i = next
      next = (next + 7) % fds
      peers[i]!.write(byte)
      if (poll(SUBS, events, fds, N_PTR) !== 0 || dv.getUint32(N_PTR, true) !== 1 || dv.getUint32(events, true) !== i) throw new Error('poll did not answer the ready fd')
      if (read(3 + i, IOV, 1, N_PTR) !== 0) throw new Error('read failed')
    }
  }
}

export async function poll(iterations = 20_000, runs = 7): Promise<void> {
  const s = await measure([
    { name: 'wait 1000', fn: pollOver(1000, true) },
    { name: 'wait 10', fn: pollOver(10, true) },
    { name: 'now 1000', fn: pollOver(1000, false) },
    { name: 'now 10', fn: pollOver(10, false) },
  ], { iterations, runs })
  report({
    name: 'wasi.poll.many-fds', unit: 'ns/op', samples: s.get('wait 1000')!,
    baseline: { name: 'one ready fd among 10', samples: s.get('wait 10')! },
    params: { iterations, fds: 1000, baselineFds: 10, op: 'poll_oneoff over all conns waits; a peer writes 1 byte to one in the next turn; the wake answers it; fd_read drains it', goal: 'ratio >= 0.5 (within 2x)' },
  })
  report({
    name: 'wasi.poll.many-fds.ready-at-call', unit: 'ns/op', samples: s.get('now 1000')!,
    baseline: { name: 'one ready fd among 10', samples: s.get('now 10')! },
    params: { iterations, fds: 1000, baselineFds: 10, op: 'a peer writes 1 byte to one conn; poll_oneoff over all (the same subscription bytes as the last call: one memcmp of 48 KB) answers it at once; fd_read drains it' },
  })
}
