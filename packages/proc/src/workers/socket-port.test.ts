// socket-port without a guest: a Conn of one side served over a MessagePort and used from
// the other, both directions windowed, bytes in order, close seen as end of stream.
import { MessageChannel } from 'node:worker_threads'
import { MemoryListener, type Conn } from '@ww/wasi-restricted'
import { PortBinder, PortConn, serveBinder, serveConn, WINDOW } from './socket-port.js'

const pattern = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + (i >> 12)) & 0xff)

/** Writes all of `bytes` into `c`, waiting whenever it takes nothing. */
async function writeAll(c: Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) {
    const n = c.write(bytes.subarray(at, Math.min(bytes.length, at + 8192)))
    if (n === 0) await c.writable(); else at += n
  }
}

/** Reads `c` to end of stream, `pace` before each read; calls `seen` with each read's size first. */
async function readAll(c: Conn, pace: () => Promise<void>, seen: () => void = () => {}): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for (;;) {
    await pace()
    seen()
    const b = c.read(3000)
    if (b === null) break
    if (b.length === 0) { await c.readable(); continue }
    parts.push(Uint8Array.from(b))
  }
  return Buffer.concat(parts)
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r))

test('1 MiB each way through a served conn, in order; the slow side never holds more than the window', async () => {
  const l = new MemoryListener()
  const client = l.connect()
  const { port1, port2 } = new MessageChannel()
  serveConn(l.accept()!, port1)
  const guest = new PortConn(port2)
  const data = pattern(1 << 20)

  // Client → guest, the guest reading slowly.
  let most = 0
  const sending = writeAll(client, data).then(() => client.shutdown(2))
  const read = await readAll(guest, turn, () => { most = Math.max(most, guest.bufferedIn) })
  await sending
  expect(Buffer.from(read).equals(Buffer.from(data))).toBe(true)
  expect(most).toBeLessThanOrEqual(WINDOW)

  // Guest → client; then the guest closes: the client reads end of stream.
  const back = readAll(client, async () => {})
  await writeAll(guest, data)
  guest.close()
  expect(Buffer.from(await back).equals(Buffer.from(data))).toBe(true)
  expect(() => guest.write(new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'ERR_CONN_CLOSED' }))
})

test('a served binder hands over one connection at a time; closing either end ends the other', async () => {
  const l = new MemoryListener()
  const { port1, port2 } = new MessageChannel()
  serveBinder(l, port1)
  const guest = new PortBinder(port2)
  expect(guest.canAccept()).toBe(false)
  const a = l.connect(), b = l.connect()
  await guest.acceptable()
  const ga = guest.accept()!
  await guest.acceptable()
  const gb = guest.accept()!
  expect(a.write(new TextEncoder().encode('to a'))).toBe(4)
  expect(b.write(new TextEncoder().encode('to b'))).toBe(4)
  await ga.readable(); await gb.readable()
  expect(Buffer.from(ga.read(10)!).toString()).toBe('to a')
  expect(Buffer.from(gb.read(10)!).toString()).toBe('to b')
  // The spawner closes its listener: the guest's accept says so (acceptable, nothing to accept).
  l.close()
  await guest.acceptable()
  expect(guest.accept()).toBeNull()
  // The guest's connections live on; closing one ends it for the client.
  ga.close()
  for (;;) { const x = a.read(10); if (x === null) break; if (x.length === 0) await a.readable() }
  gb.close()
  guest.close()
})

test('a served conn that throws ends its serving (the guest reads end of stream), not the spawner\'s thread', async () => {
  let closed = false
  const broken: Conn = {
    read: () => { throw new Error('broken capability') },
    canRead: () => true, readable: () => Promise.resolve(),
    write: () => { throw new Error('broken capability') },
    canWrite: () => true, writable: () => Promise.resolve(),
    shutdown: () => {}, close: () => { closed = true },
  }
  const { port1, port2 } = new MessageChannel()
  serveConn(broken, port1)
  const guest = new PortConn(port2)
  await guest.readable()
  expect(guest.read(10)).toBeNull()
  expect(guest.writeEnded()).toBe(true)
  expect(closed).toBe(true)
})

test('a Buffer view (Node\'s pool) through a served conn is copied into a buffer of its own (Node 24 refuses to move the pool; 20 cloned all of it)', async () => {
  const l = new MemoryListener()
  const client = l.connect()
  const { port1, port2 } = new MessageChannel()
  serveConn(l.accept()!, port1)
  const guest = new PortConn(port2)
  const neighbour = Buffer.from('a neighbour in the same pool')
  expect(client.write(Buffer.from('small write'))).toBe(11) // a view into Node's Buffer pool
  await guest.readable()
  expect(Buffer.from(guest.read(100)!).toString()).toBe('small write')
  expect(guest.write(Buffer.from('and back'))).toBe(8)
  await client.readable()
  expect(Buffer.from(client.read(100)!).toString()).toBe('and back')
  expect(neighbour.toString()).toBe('a neighbour in the same pool')
  guest.close()
})
