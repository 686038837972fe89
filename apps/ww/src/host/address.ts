// Where a host's RPC endpoint listens: a unix socket (the default: only this user can
// reach it, since the endpoint hands out an admin Host) or a TCP port on an interface.
import { isAbsolute, resolve } from 'node:path'
import { UsageError } from '../command.js'

export type RpcAddress =
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }

const FORMS = 'an endpoint looks like unix:/path/to/host.sock, ./host.sock, 127.0.0.1:7777, :7777 or tcp://127.0.0.1:7777'

/** `unix:PATH`, a path with a `/`, `HOST:PORT`, `:PORT` or `tcp://HOST:PORT`. */
export function parseRpcAddress(text: string, what = '--rpc'): RpcAddress {
  const t = text.trim()
  if (t.startsWith('unix:')) return unix(t.slice(5), text, what)
  const tcp = /^(?:tcp:\/\/)?(\[[0-9a-f:]+\]|[A-Za-z0-9.-]*):(\d{1,5})$/i.exec(t)
  if (tcp) {
    const port = Number(tcp[2])
    if (port > 65535) throw new UsageError(`${what}: port ${port} is out of range`, FORMS)
    const host = tcp[1] === '' ? '127.0.0.1' : tcp[1]!.replace(/^\[|\]$/g, '')
    return { kind: 'tcp', host, port }
  }
  if (t.includes('/') || t.endsWith('.sock')) return unix(t, text, what)
  throw new UsageError(`${what}: cannot read the endpoint '${text}'`, FORMS)
}

function unix(path: string, text: string, what: string): RpcAddress {
  if (path === '') throw new UsageError(`${what}: '${text}' names no socket path`, FORMS)
  return { kind: 'unix', path: isAbsolute(path) ? path : resolve(path) }
}

export function formatRpcAddress(a: RpcAddress): string {
  return a.kind === 'unix' ? `unix:${a.path}` : `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`
}
