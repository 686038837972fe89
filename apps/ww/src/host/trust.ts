// What `ww host` checks before it starts anything, and the client endpoint's token.
//
// - A host reachable from other machines must be in a private cluster: --listen or --join
//   on a non-loopback address needs a swarm key (or an explicit --open).
// - A TCP RPC endpoint off loopback needs a token: every client of the endpoint is the
//   host's operator. The token file is 64 hex digits (32 random bytes, `ww key token`);
//   the client sends the 32 bytes first, the host answers one byte (1: accepted) or closes.
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import { UsageError } from '../command.js'

export const TOKEN_BYTES = 32

/** Whether a multiaddr names only this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopbackMultiaddr(ma: string): boolean {
  const m = /^\/(ip4|ip6|dns4|dns6|dns)\/([^/]+)/.exec(ma)
  if (!m) return false
  return isLoopbackHost(m[2]!)
}

/** Whether a host name or address is this machine only. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  return /^127(\.\d{1,3}){3}$/.test(h) || h === '::1' || h === 'localhost' || /^::ffff:127(\.\d{1,3}){3}$/.test(h)
}

/**
 * How exposed a libp2p host is: 'private' (a swarm key), 'local' (loopback only), or the
 * first non-loopback address it would open without a key ('exposed'). `--open` turns the
 * refusal into a warning.
 */
export function exposure(addrs: readonly string[], swarmKey: boolean): { kind: 'private' | 'local' } | { kind: 'exposed'; address: string } {
  if (swarmKey) return { kind: 'private' }
  const open = addrs.find((a) => !isLoopbackMultiaddr(a))
  return open === undefined ? { kind: 'local' } : { kind: 'exposed', address: open }
}

/** A new token file's text. */
export function generateToken(): string {
  return randomBytes(TOKEN_BYTES).toString('hex') + '\n'
}

/** Reads a token file: private to its owner, 64 hex digits (a final newline allowed). */
export function readToken(path: string, what = '--token'): Uint8Array {
  let mode: number
  let text: string
  try {
    mode = statSync(path).mode
    text = readFileSync(path, 'utf8')
  } catch (e) {
    throw new UsageError(`${what}: cannot read the token file ${path}: ${(e as { code?: string }).code ?? (e as Error).message}`, 'make one with `ww key token --out FILE`')
  }
  if ((mode & 0o077) !== 0) {
    throw new UsageError(`${what}: the token file ${path} is readable by others (mode ${(mode & 0o777).toString(8)})`, `a token is a secret: chmod 600 ${path}`)
  }
  const t = text.replace(/\r?\n$/, '')
  if (!/^[0-9a-fA-F]*$/.test(t)) throw new UsageError(`${what}: the token in ${path} is not hex digits`, 'a token is 64 hex digits; make one with `ww key token --out FILE`')
  if (t.length !== TOKEN_BYTES * 2) {
    throw new UsageError(`${what}: the token in ${path} has ${t.length} characters, not ${TOKEN_BYTES * 2}`, 'a token is 64 hex digits; make one with `ww key token --out FILE`')
  }
  return Uint8Array.from(Buffer.from(t, 'hex'))
}

/** Constant-time comparison of a presented token with the expected one. */
export function tokenMatches(expected: Uint8Array, got: Uint8Array): boolean {
  return got.byteLength === expected.byteLength && timingSafeEqual(expected, got)
}
