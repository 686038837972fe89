import { connect, createServer, type Server, type Socket } from 'node:net'
import { Relay } from '../src/relay.js'

/** An echo target that also records what it got. */
async function target(): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = []
  const server = createServer((s) => { sockets.push(s); s.on('error', () => {}); s.pipe(s) })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { server, port: (server.address() as { port: number }).port, sockets }
}

async function client(port: number): Promise<{ socket: Socket; received: () => Buffer; closed: Promise<void> }> {
  const chunks: Buffer[] = []
  const socket = connect({ host: '127.0.0.1', port })
  socket.on('data', (c: Buffer) => chunks.push(c))
  socket.on('error', () => {})
  const closed = new Promise<void>((r) => socket.once('close', () => r()))
  await new Promise<void>((r) => socket.once('connect', () => r()))
  return { socket, received: () => Buffer.concat(chunks), closed }
}

async function until(pred: () => boolean): Promise<void> {
  while (!pred()) await new Promise((r) => setTimeout(r, 5))
}

test('bytes cross a delayed, jittered link in order and complete', async () => {
  const t = await target()
  await using relay = await Relay.start({ listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port: t.port }, faults: { delayMs: 5, jitterMs: 4 } })
  const c = await client(relay.port)
  const sent = Buffer.from(Array.from({ length: 2000 }, (_, i) => `${i},`).join(''))
  for (let i = 0; i < sent.length; i += 97) c.socket.write(sent.subarray(i, i + 97)) // many chunks, each its own draw
  await until(() => c.received().length >= sent.length)
  expect(c.received().equals(sent)).toBe(true)
  expect(relay.stats.bytesForwarded).toBe(2 * sent.length)
  c.socket.destroy()
  t.server.close()
})

test('a blocked source is cut and refused; unblocked it connects again', async () => {
  const t = await target()
  await using relay = await Relay.start({ listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port: t.port } })
  const c = await client(relay.port)
  await until(() => relay.stats.open === 1) // accepted and connected through
  relay.block(['127.0.0.1'])
  await c.closed
  await new Promise<void>((r) => connect({ host: '127.0.0.1', port: relay.port }).on('error', () => {}).once('close', () => r()))
  expect(relay.stats.refused).toBe(1)
  relay.unblock()
  const again = await client(relay.port)
  again.socket.write('ok')
  await until(() => again.received().toString() === 'ok')
  again.socket.destroy()
  t.server.close()
})

test('random resets end connections and are counted', async () => {
  const t = await target()
  await using relay = await Relay.start({ listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port: t.port }, faults: { resetsPerSec: 50 } })
  const c = await client(relay.port)
  await c.closed
  expect(relay.stats.resets).toBeGreaterThanOrEqual(1)
  t.server.close()
})

test('a frozen link stays open and silent, even when its far end closes', async () => {
  const t = await target()
  await using relay = await Relay.start({ listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port: t.port } })
  const c = await client(relay.port)
  c.socket.on('end', () => {}) // (a FIN would arrive here; a frozen link sends none)
  c.socket.write('before')
  await until(() => c.received().toString() === 'before')
  relay.freeze()
  c.socket.write('after')
  for (const s of t.sockets) s.destroy() // the far end goes away
  await until(() => relay.stats.open === 0) // the relay saw it, and held the near side
  expect(c.socket.destroyed).toBe(false)
  expect(c.received().toString()).toBe('before')
  c.socket.destroy()
  t.server.close()
})
