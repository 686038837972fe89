// The client side of a host's RPC endpoint: connect, bootstrap its Host, close.
import { connect, type Socket } from 'node:net'
import { host as capHost } from '@ww/schema'
import { ConnectionClosedError, connectStream, RemoteError, type RpcConnection } from '@ww/transport'
import type { HostFlags } from './commands/args.js'
import { readToken } from './host/trust.js'
import { parseRpcAddress } from './host/address.js'
import { resolveTarget, type Target } from './host/state.js'
import { CliError, EndpointUnreachableError, TokenRefusedError } from './errors.js'

export interface HostSession extends AsyncDisposable {
  readonly target: Target
  readonly host: capHost.Host$Client
  readonly conn: RpcConnection
  close(): void
}

/**
 * Connects to the host named by --host, $WW_HOST or the state file. A TCP endpoint is shown
 * a token when one is named (--token, $WW_TOKEN, or the state file for the host it names).
 */
export async function connectHost(flags: string | HostFlags | undefined, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<HostSession> {
  const f: HostFlags = typeof flags === 'string' ? { host: flags } : flags ?? {}
  const target = resolveTarget(f.host, env)
  const address = parseRpcAddress(target.rpc, target.from)
  const tokenFile = f.token ?? (env.WW_TOKEN || undefined) ?? (target.from === 'state' ? target.record?.token : undefined)
  // Read before connecting: a bad token file is the user's to fix (exit 2), not the host's.
  const token = address.kind === 'tcp' && tokenFile !== undefined ? readToken(tokenFile, f.token !== undefined ? '--token' : env.WW_TOKEN ? 'WW_TOKEN' : 'the token in host.json') : undefined
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = address.kind === 'unix' ? connect(address.path) : connect(address.port, address.host)
    const onAbort = (): void => { s.destroy(); reject(signal!.reason) }
    signal?.addEventListener('abort', onAbort, { once: true })
    s.once('connect', () => { signal?.removeEventListener('abort', onAbort); resolve(s) })
    s.once('error', (e: Error & { code?: string }) => {
      signal?.removeEventListener('abort', onAbort)
      const where = `${target.rpc}${target.from === 'state' ? ' (from the state file)' : ` (from ${target.from})`}`
      reject(new EndpointUnreachableError(`cannot reach a host at ${where}: ${e.code ?? e.message}`, { cause: e }))
    })
  })
  socket.setNoDelay?.(true)
  if (token !== undefined) await presentToken(socket, token, target.rpc, signal)
  const conn = connectStream(socket, { name: 'ww-client' })
  const host = conn.bootstrap(capHost.Host)
  const close = (): void => { conn.close(); socket.destroy() }
  return { target, host, conn, close, [Symbol.asyncDispose]: async () => close() }
}

/** Sends the token and waits for the host's one-byte answer (endpoint.ts). */
function presentToken(socket: Socket, token: Uint8Array, where: string, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (e?: Error): void => {
      socket.off('data', onData); socket.off('close', onClose); signal?.removeEventListener('abort', onAbort)
      if (e) { socket.destroy(); reject(e) } else resolve()
    }
    const onData = (b: Buffer): void => {
      socket.pause()
      if (b.byteLength > 1) socket.unshift(b.subarray(1))
      if (b[0] === 1) done()
      else done(new TokenRefusedError(`the host at ${where} refused the token`))
    }
    const onClose = (): void => done(new TokenRefusedError(`the host at ${where} closed the connection before accepting the token`))
    const onAbort = (): void => done(signal!.reason as Error)
    socket.on('data', onData)
    socket.once('close', onClose)
    signal?.addEventListener('abort', onAbort, { once: true })
    socket.write(token)
  }).then(() => { socket.resume() })
}

/** An RPC failure as the user sees it: the host's code and reason. */
export function remoteFailure(e: unknown, what: string): CliError | unknown {
  if (e instanceof RemoteError) return new CliError('ERR_REMOTE', `${what}: ${e.reason}`)
  // A TCP endpoint that wants a token closes a connection that does not start with one.
  if (e instanceof ConnectionClosedError) {
    return new CliError('ERR_HOST_UNREACHABLE', `${what}: the host closed the connection`, 'if its endpoint asks for a token, pass it with --token FILE or WW_TOKEN=FILE', { cause: e })
  }
  return e
}
