import net from 'node:net'
import { connectStream } from './stream.js'
import { testing } from '@ww/schema'
import { newEcho } from '@ww/schema/testing'
import { ConnectionClosedError, FrameError, RemoteError } from './errors.js'
import type { RpcConnection } from './rpc/connection.js'

async function socketPair(): Promise<[net.Socket, net.Socket, () => void]> {
  const server = net.createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as net.AddressInfo).port
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r))
  const client = net.connect(port, '127.0.0.1')
  await new Promise<void>((r) => client.once('connect', r))
  return [client, await accepted, () => server.close()]
}

describe('connectStream over a TCP socket pair', () => {
  it('bootstraps, calls, pipelines and moves a 1 MiB payload', async () => {
    const [c, s, stop] = await socketPair()
    const server = connectStream(s, { bootstrap: newEcho() })
    const client = connectStream(c)
    const echo = client.bootstrap(testing.Echo)
    await echo.ping()
    const big = new Uint8Array(1 << 20).map((_, i) => i & 0xff)
    const r = await echo.echo((p) => p.setPayload(big))
    expect(Buffer.compare(r.getPayload().toUint8Array(), big)).toBe(0)
    const total = await echo.counter((p) => p.setStart(1n)).getCounter().add((p) => p.setN(2n))
    expect(total.getTotal()).toBe(3n)
    expect(server.stats.callsIn).toBe(4)
    client.close()
    await new Promise((r) => s.once('close', r))
    expect(server.closed).toBe(true)
    stop()
  })

  it('aborts on a bad frame with the typed error and an Abort to the peer', async () => {
    const [c, s, stop] = await socketPair()
    let reason: Error | undefined
    const server = connectStream(s, { bootstrap: newEcho(), onClose: (e) => { reason = e } })
    const got: Buffer[] = []
    c.on('data', (b: Buffer) => got.push(b))
    // one segment of 1 word holding a reserved pointer kind
    c.write(Buffer.from([0, 0, 0, 0, 1, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0]))
    await new Promise((r) => c.once('end', r))
    expect(server.closed).toBe(true)
    expect(reason).toBeInstanceOf(FrameError)
    // what came back is an Abort naming the error
    expect(Buffer.concat(got).toString('latin1')).toMatch(/ERR_BAD_FRAME: root: reserved pointer kind/)
    c.destroy()
    stop()
  })

  it('rejects pending calls when the peer goes away', async () => {
    const [c, s, stop] = await socketPair()
    let arrived!: () => void
    const called = new Promise<void>((r) => { arrived = r })
    const hang = new testing.Echo.Server({ ping: () => { arrived(); return new Promise(() => {}) }, echo() {}, counter() {} })
    connectStream(s, { bootstrap: hang })
    const client: RpcConnection = connectStream(c)
    const p = client.bootstrap(testing.Echo).ping()
    await called // the call is pending at the peer (not a 20 ms guess that it got there)
    s.destroy()
    const e = await p.then(() => null, (x: unknown) => x)
    expect(e).toBeInstanceOf(ConnectionClosedError)
    expect(e).not.toBeInstanceOf(RemoteError)
    stop()
  })
})
