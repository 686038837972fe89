// The client side of a host's RPC endpoint: connect, bootstrap its Host, close.
import { connect, type Socket } from 'node:net'
import { host as capHost } from '@ww/schema'
import { connectStream, RemoteError, type RpcConnection } from '@ww/transport'
import { parseRpcAddress } from './host/address.js'
import { resolveTarget, type Target } from './host/state.js'
import { CliError, HostUnreachableError } from './errors.js'

export interface HostSession extends AsyncDisposable {
  readonly target: Target
  readonly host: capHost.Host$Client
  readonly conn: RpcConnection
  close(): void
}

/** Connects to the host named by --host, $WW_HOST or the state file. */
export async function connectHost(flag: string | undefined, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<HostSession> {
  const target = resolveTarget(flag, env)
  const address = parseRpcAddress(target.rpc, target.from)
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = address.kind === 'unix' ? connect(address.path) : connect(address.port, address.host)
    const onAbort = (): void => { s.destroy(); reject(signal!.reason) }
    signal?.addEventListener('abort', onAbort, { once: true })
    s.once('connect', () => { signal?.removeEventListener('abort', onAbort); resolve(s) })
    s.once('error', (e: Error & { code?: string }) => {
      signal?.removeEventListener('abort', onAbort)
      const where = `${target.rpc}${target.from === 'state' ? ' (from the state file)' : ` (from ${target.from})`}`
      reject(new HostUnreachableError(`cannot reach a host at ${where}: ${e.code ?? e.message}`, { cause: e }))
    })
  })
  socket.setNoDelay?.(true)
  const conn = connectStream(socket, { name: 'ww-client' })
  const host = conn.bootstrap(capHost.Host)
  const close = (): void => { conn.close(); socket.destroy() }
  return { target, host, conn, close, [Symbol.asyncDispose]: async () => close() }
}

/** An RPC failure as the user sees it: the host's code and reason. */
export function remoteFailure(e: unknown, what: string): CliError | unknown {
  if (e instanceof RemoteError) return new CliError('ERR_REMOTE', `${what}: ${e.reason}`)
  return e
}
