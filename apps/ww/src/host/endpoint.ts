// A host's RPC endpoint: Cap'n Proto RPC (standard stream framing) over a unix socket or
// a TCP port. Each connection bootstraps its own Host capability, made by `hostFor`;
// when the connection ends, that Host is closed, which revokes and frees everything it
// handed out (subscriptions, watches, anchors).
//
// With a token (trust.ts), a connection is served only once its first TOKEN_BYTES bytes
// match it (constant-time); the host answers one byte, 1, and RPC begins. A wrong token,
// or none within TOKEN_WAIT_MS, gets 0 and the connection is closed: the host goes on.
import { chmodSync, existsSync, rmSync } from 'node:fs'
import { connect, createServer, type Server, type Socket } from 'node:net'
import type { HostCapability } from '@ww/host'
import { connectStream, type RpcConnection } from '@ww/transport'
import { formatRpcAddress, type RpcAddress } from './address.js'
import { TOKEN_BYTES, tokenMatches } from './trust.js'
import { WwError } from '@ww/interface'

const TOKEN_WAIT_MS = 5000

export interface ServeRpcOptions {
  /** Clients must present this first (TOKEN_BYTES bytes). */
  token?: Uint8Array
}

export interface RpcEndpoint extends AsyncDisposable {
  /** The address it listens on (with the real port when asked for port 0). */
  readonly address: RpcAddress
  /** Clients connected now. */
  readonly connections: number
  close(): Promise<void>
}

export class EndpointError extends WwError<'ERR_ENDPOINT'> {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_ENDPOINT', message, options)
  }
}

export async function serveRpc(address: RpcAddress, hostFor: (connection: number) => HostCapability, opts: ServeRpcOptions = {}): Promise<RpcEndpoint> {
  const live = new Map<Socket, { conn: RpcConnection; host: HostCapability }>()
  let next = 1
  const token = opts.token
  const pending = new Set<Socket>() // waiting for their token
  const server: Server = createServer((socket) => {
    socket.setNoDelay?.(true)
    socket.on('error', () => socket.destroy())
    if (token === undefined) { serve(socket); return }
    // The token first: nothing is bootstrapped for a socket that has not shown it.
    let got = Buffer.alloc(0)
    pending.add(socket)
    const timer = setTimeout(() => refuse(), TOKEN_WAIT_MS)
    const refuse = (): void => { pending.delete(socket); socket.off('data', onData); clearTimeout(timer); socket.end(Buffer.from([0])); socket.destroySoon?.() }
    const onData = (b: Buffer): void => {
      got = Buffer.concat([got, b])
      if (got.byteLength < TOKEN_BYTES) return
      if (!tokenMatches(token, got.subarray(0, TOKEN_BYTES))) { refuse(); return }
      pending.delete(socket)
      socket.off('data', onData)
      clearTimeout(timer)
      socket.pause()
      if (got.byteLength > TOKEN_BYTES) socket.unshift(got.subarray(TOKEN_BYTES))
      socket.write(Buffer.from([1]))
      serve(socket)
      socket.resume() // paused above: a 'data' listener does not resume an explicitly paused stream
    }
    socket.on('data', onData)
    socket.once('close', () => { pending.delete(socket); clearTimeout(timer) })
  })
  const serve = (socket: Socket): void => {
    const host = hostFor(next++)
    const conn = connectStream(socket, {
      bootstrap: host.server,
      name: `rpc-client-${next - 1}`,
      onClose: () => {
        host.close('client disconnected')
        live.delete(socket)
        socket.destroy()
      },
    })
    live.set(socket, { conn, host })
  }
  if (address.kind === 'unix' && existsSync(address.path)) {
    // A socket file left by a host that died: only remove it if nobody answers there.
    if (await answers(address.path)) throw new EndpointError(`another host is listening on ${address.path}`)
    rmSync(address.path, { force: true })
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new EndpointError(`cannot listen on ${formatRpcAddress(address)}: ${e.message}`, { cause: e })))
    if (address.kind === 'unix') server.listen(address.path, resolve)
    else server.listen(address.port, address.host, resolve)
  })
  if (address.kind === 'unix') chmodSync(address.path, 0o600)
  const bound = server.address()
  const actual: RpcAddress = address.kind === 'tcp' && bound !== null && typeof bound === 'object'
    ? { kind: 'tcp', host: address.host, port: bound.port }
    : address
  let closed: Promise<void> | undefined
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve())
      for (const [socket, { conn }] of live) { conn.close(); socket.destroy() }
      for (const socket of pending) socket.destroy()
    })
    return closed
  }
  return {
    address: actual,
    get connections() { return live.size },
    close,
    [Symbol.asyncDispose]: close,
  }
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path)
    s.once('connect', () => { s.destroy(); resolve(true) })
    s.once('error', () => resolve(false))
  })
}
