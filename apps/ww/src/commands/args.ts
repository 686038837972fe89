// Small parsers shared by the client and host commands.
import { UsageError } from '../command.js'
import type { Io, ParsedArgs } from '../command.js'

export function list(v: ParsedArgs['values'][string]): string[] {
  if (v === undefined) return []
  return (Array.isArray(v) ? v : [v]).map(String)
}

/** `500ms`, `5s`, `2m`, `5` (seconds) → milliseconds. */
export function parseDuration(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(text.trim())
  if (!m) throw new UsageError(`${what}: cannot read the duration '${text}'`, 'durations look like 500ms, 5s, 2m, 1h (a bare number is seconds)')
  const ms = Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's']!
  if (!(ms > 0)) throw new UsageError(`${what} must be more than 0`, `e.g. ${what} 5s`)
  return ms
}

/** A positive integer option, e.g. --count 3. */
export function parseCount(v: ParsedArgs['values'][string], what: string): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${what} must be a whole number of at least 1, not '${String(v)}'`, `e.g. ${what} 3`)
  return n
}

/** The client options every client command takes. */
export const CLIENT_OPTIONS = {
  host: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
} as const

export const CLIENT_HELP = {
  host: 'the host\'s RPC endpoint (unix socket path or HOST:PORT); default $WW_HOST, else the host recorded in $WW_HOME/host.json',
  token: 'a token file for a host whose TCP endpoint asks for one (`ww host --token`); default $WW_TOKEN, else the one the host recorded in $WW_HOME/host.json',
  json: 'print JSON for scripts instead of the human view',
}

/** Which host a client command talks to, and the token it shows (--host, --token). */
export interface HostFlags { host?: string; token?: string }

export const hostFlag = (args: ParsedArgs): HostFlags => ({
  ...(args.values.host === undefined ? {} : { host: String(args.values.host) }),
  ...(args.values.token === undefined ? {} : { token: String(args.values.token) }),
})

export function writeJson(io: Io, value: unknown): void {
  io.stdout.write(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)) + '\n')
}
