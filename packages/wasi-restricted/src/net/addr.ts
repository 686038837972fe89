// "host:port" addresses, as schemas/net.capnp spells them: an IPv4 literal, a bracketed
// IPv6 literal ("[::1]:8080") or a DNS name. Grants compare them as strings; parsing only
// checks the shape and splits them for node:net.

import { isIP } from 'node:net'
import { BadAddress } from './errors.js'

export interface HostPort { readonly host: string; readonly port: number }

const NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/

export function parseAddr(addr: string): HostPort {
  if (typeof addr !== 'string') throw new BadAddress(String(addr))
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(addr)
  if (m === null) throw new BadAddress(addr)
  const port = Number(m[3])
  if (port > 65535 || (m[3]!.length > 1 && m[3]!.startsWith('0'))) throw new BadAddress(addr)
  if (m[1] !== undefined) {
    if (isIP(m[1]) !== 6) throw new BadAddress(addr)
    return { host: m[1], port }
  }
  const host = m[2]!
  if (isIP(host) !== 4 && !NAME.test(host)) throw new BadAddress(addr)
  return { host, port }
}

export function formatAddr(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`
}
