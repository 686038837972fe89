// What registries say to each other on the cluster's registry topic. An announcement is
// schemas/peer.capnp `Announcement` (Cap'n Proto, unpacked, one segment); a query ("who
// provides this name?") has no struct in the schema, so each message starts with a kind
// byte: 1 then an Announcement, 2 then the name as UTF-8.

import { Message } from 'capnp-ts'
import { peer } from '@ww/schema'

export interface Announced {
  name: string
  /** The providing process: its host and pid there. */
  host: string
  pid: bigint
  token: bigint
  ttlMs: number
  meta: readonly string[]
  withdrawn: boolean
}

export type RegistryMessage = { kind: 'announce'; a: Announced } | { kind: 'query'; name: string }

const ANNOUNCE = 1
const QUERY = 2
/** Bounds on what a receiver accepts from another host (a provider's labels included). */
export const MAX_MESSAGE_BYTES = 64 * 1024
export const MAX_META = 64

const enc = new TextEncoder()
const dec = new TextDecoder('utf-8', { fatal: true })

export function encodeAnnouncement(a: Announced): Uint8Array {
  const m = new Message()
  const s = m.initRoot(peer.Announcement)
  s.setName(a.name)
  const ref = s.initProvider()
  ref.setHost(a.host)
  ref.setPid(a.pid)
  s.setToken(a.token)
  s.setTtlMs(a.ttlMs)
  const meta = s.initMeta(a.meta.length)
  a.meta.forEach((v, i) => meta.set(i, v))
  s.setWithdrawn(a.withdrawn)
  return framed(ANNOUNCE, new Uint8Array(m.toArrayBuffer()))
}

export function encodeQuery(name: string): Uint8Array {
  return framed(QUERY, enc.encode(name))
}

/** The message, or undefined for anything malformed or oversized (another host's bytes). */
export function decodeRegistryMessage(data: Uint8Array): RegistryMessage | undefined {
  if (data.byteLength < 2 || data.byteLength > MAX_MESSAGE_BYTES) return undefined
  try {
    if (data[0] === QUERY) return { kind: 'query', name: dec.decode(data.subarray(1)) }
    if (data[0] !== ANNOUNCE) return undefined
    // A copy: capnp-ts reads an ArrayBuffer from its start, and this one is ours to keep.
    const s = new Message(data.slice(1), false).getRoot(peer.Announcement)
    if (!s.hasProvider()) return undefined
    const list = s.getMeta()
    if (list.getLength() > MAX_META) return undefined
    const meta: string[] = []
    for (let i = 0; i < list.getLength(); i++) meta.push(list.get(i))
    const ref = s.getProvider()
    return {
      kind: 'announce',
      a: { name: s.getName(), host: ref.getHost(), pid: ref.getPid(), token: s.getToken(), ttlMs: s.getTtlMs(), meta, withdrawn: s.getWithdrawn() },
    }
  } catch {
    return undefined
  }
}

function framed(kind: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + body.byteLength)
  out[0] = kind
  out.set(body, 1)
  return out
}
