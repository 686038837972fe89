// Who may be part of a cluster, and what each peer may do there.
//
// - The swarm key: a libp2p private network (@libp2p/pnet) in the file format go-libp2p
//   and IPFS use — `/key/swarm/psk/1.0.0/`, `/base16/`, 64 hex digits, one per line. A
//   peer without the same key cannot complete a connection: every byte after the nonce
//   exchange is XSalsa20 under the key, so noise's handshake fails.
// - The identity: a host's libp2p private key in a file of its own (the key's protobuf,
//   as go-libp2p marshals it), created on first use, so its peer id survives restarts.
// - Per-peer rights: what another host may do through the host-to-host protocol. An
//   allow-list admits only the peers it names (the connection gater); each named peer has
//   the rights listed with it, all of them when none are.
//
// Key files are secrets: one readable by group or others is refused, as ssh does.

import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { HostError } from '../errors.js'

/** A key or allow-list that cannot be used: what is wrong, in words, and the file. */
export class TrustConfigError extends HostError {
  constructor(message: string, options?: ErrorOptions) { super('ERR_INVALID_ARGUMENT', message, options) }
}

// --- the swarm key ---

const SWARM_HEADER = '/key/swarm/psk/1.0.0/'
const SWARM_ENCODING = '/base16/'

/** A new swarm key file's text (32 random bytes), ending with a newline as IPFS writes it. */
export function generateSwarmKey(): string {
  return `${SWARM_HEADER}\n${SWARM_ENCODING}\n${randomBytes(32).toString('hex')}\n`
}

/**
 * Checks a swarm key file's text and returns it as @libp2p/pnet takes it. Accepts what
 * go-libp2p accepts in the v1 format: CRLF or LF, an optional final newline.
 */
export function parseSwarmKey(text: string | Uint8Array, where = 'the swarm key'): Uint8Array {
  const s = typeof text === 'string' ? text : new TextDecoder().decode(text)
  const lines = s.split(/\r?\n/)
  if (lines.at(-1) === '') lines.pop()
  const hint = `a swarm key is three lines: ${SWARM_HEADER}, ${SWARM_ENCODING}, then 64 hex digits (make one with \`ww key swarm\`)`
  if (lines[0] !== SWARM_HEADER) throw new TrustConfigError(`${where} does not start with ${SWARM_HEADER}; ${hint}`)
  if (lines[1] !== SWARM_ENCODING) {
    throw new TrustConfigError(`${where}: encoding ${JSON.stringify(lines[1] ?? '')} is not supported (only ${SWARM_ENCODING}); ${hint}`)
  }
  const hex = lines[2] ?? ''
  if (!/^[0-9a-fA-F]*$/.test(hex)) throw new TrustConfigError(`${where}: the key line is not hex digits; ${hint}`)
  if (hex.length !== 64) throw new TrustConfigError(`${where}: the key has ${hex.length} hex digits, not 64 (truncated?); ${hint}`)
  if (lines.length > 3) throw new TrustConfigError(`${where}: unexpected text after the key; ${hint}`)
  return new TextEncoder().encode(`${SWARM_HEADER}\n${SWARM_ENCODING}\n${hex.toLowerCase()}`)
}

/** Reads and checks a key file: it must exist, be a file, and be private to its owner. */
function readSecret(path: string, what: string): Buffer {
  let st
  try {
    st = statSync(path)
  } catch (e) {
    throw new TrustConfigError(`cannot read ${what} ${path}: ${(e as { code?: string }).code ?? (e as Error).message}`, { cause: e })
  }
  if (!st.isFile()) throw new TrustConfigError(`${what} ${path} is not a file`)
  if ((st.mode & 0o077) !== 0) {
    throw new TrustConfigError(
      `${what} ${path} is readable by others (mode ${(st.mode & 0o777).toString(8).padStart(3, '0')}); ` +
      `a key must be private to its owner: chmod 600 ${path}`,
    )
  }
  return readFileSync(path)
}

/** The swarm key in `path`, checked (format, permissions), as @libp2p/pnet takes it. */
export function readSwarmKey(path: string): Uint8Array {
  return parseSwarmKey(readSecret(path, 'swarm key file'), `swarm key file ${path}`)
}

/**
 * Writes a new swarm key to `path`, readable by its owner only; fails if the file exists
 * (a key in use is never overwritten by accident).
 */
export function writeSwarmKey(path: string): void {
  writeFileSync(path, generateSwarmKey(), { mode: 0o600, flag: 'wx' })
}

// --- the identity ---

/**
 * The host's private key from `path`; with `create`, a new Ed25519 key is written there
 * (mode 0600, its directory 0700) when the file does not exist yet.
 */
export async function loadIdentity(path: string, opts: { create?: boolean } = {}): Promise<PrivateKey> {
  let exists = true
  try { statSync(path) } catch (e) { if ((e as { code?: string }).code === 'ENOENT') exists = false; else throw e }
  if (!exists && opts.create) {
    const key = await generateKeyPair('Ed25519')
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
    try {
      writeFileSync(path, privateKeyToProtobuf(key), { mode: 0o600, flag: 'wx' })
      return key
    } catch (e) {
      // Another host started from the same home wrote it first: use theirs.
      if ((e as { code?: string }).code !== 'EEXIST') throw new TrustConfigError(`cannot write the identity ${path}: ${(e as Error).message}`, { cause: e })
    }
  }
  const bytes = readSecret(path, 'identity key file')
  try {
    return privateKeyFromProtobuf(bytes)
  } catch (e) {
    throw new TrustConfigError(`identity key file ${path} does not hold a libp2p private key (${(e as Error).message})`, { cause: e })
  }
}

/** The peer id a private key gives a host. */
export function peerIdOf(key: PrivateKey): string {
  return peerIdFromPrivateKey(key).toString()
}

// --- per-peer rights ---

/** What another host may do to this one through the host-to-host protocol. */
export type PeerRight = 'exec' | 'anchors:write' | 'registry:provide' | 'pubsub:publish'
export const PEER_RIGHTS: readonly PeerRight[] = ['exec', 'anchors:write', 'registry:provide', 'pubsub:publish']
const ALL: ReadonlySet<PeerRight> = new Set(PEER_RIGHTS)
const NONE: ReadonlySet<PeerRight> = new Set()

/** Peer id → its rights. A host with an allow-list admits no one else. */
export type AllowList = ReadonlyMap<string, ReadonlySet<PeerRight>>

/** Checks a peer id's text (a libp2p peer id: base58btc multihash or CIDv1). */
export function parsePeerId(text: string, where = 'peer id'): string {
  try {
    return peerIdFromString(text).toString()
  } catch (e) {
    throw new TrustConfigError(`${where}: '${text}' is not a libp2p peer id (${(e as Error).message}); peer ids look like 12D3KooW… (\`ww cluster ls\` lists them)`, { cause: e })
  }
}

/** The rights list of an allow entry: `all`, `none`/`read`, or names joined by commas. */
export function parseRights(text: string, where = 'rights'): ReadonlySet<PeerRight> {
  const t = text.trim()
  if (t === '' || t === 'all') return ALL
  if (t === 'none' || t === 'read') return NONE
  const out = new Set<PeerRight>()
  for (const r of t.split(',').map((x) => x.trim())) {
    if (!(PEER_RIGHTS as readonly string[]).includes(r)) {
      throw new TrustConfigError(`${where}: unknown right '${r}'; the rights are ${PEER_RIGHTS.join(', ')} (or all, or read for none)`)
    }
    out.add(r as PeerRight)
  }
  return out
}

/** One allow entry: `PEERID` (all rights) or `PEERID=RIGHT,RIGHT…` (`PEERID=read`: none). */
export function parseAllowEntry(text: string, where = '--allow'): [string, ReadonlySet<PeerRight>] {
  const i = text.indexOf('=')
  const id = parsePeerId((i < 0 ? text : text.slice(0, i)).trim(), where)
  return [id, i < 0 ? ALL : parseRights(text.slice(i + 1), `${where} ${id.slice(0, 12)}…`)]
}

/** An allow file: one entry per line (`PEERID` or `PEERID RIGHTS`, or `=RIGHTS`), `#` comments. */
export function parseAllowFile(text: string, path: string): Array<[string, ReadonlySet<PeerRight>]> {
  const out: Array<[string, ReadonlySet<PeerRight>]> = []
  text.split(/\r?\n/).forEach((raw, n) => {
    const line = raw.replace(/#.*$/, '').trim()
    if (line === '') return
    const m = /^(\S+?)(?:\s*=\s*|\s+)(\S.*)?$/.exec(line) ?? [line, line]
    out.push(parseAllowEntry(m[2] === undefined ? m[1]! : `${m[1]}=${m[2]}`, `${path} line ${n + 1}`))
  })
  return out
}

/** Reads an allow file (not a secret: any mode). */
export function readAllowFile(path: string): Array<[string, ReadonlySet<PeerRight>]> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (e) {
    throw new TrustConfigError(`cannot read the allow file ${path}: ${(e as { code?: string }).code ?? (e as Error).message}`, { cause: e })
  }
  return parseAllowFile(text, path)
}

/**
 * The rights of `peer` under `allow` (an absent list admits every peer that could connect,
 * with every right: inside a private cluster, holding the key is the credential).
 * `undefined`: not admitted at all.
 */
export function rightsUnder(allow: AllowList | undefined, peer: string): ReadonlySet<PeerRight> | undefined {
  return allow === undefined ? ALL : allow.get(peer)
}

export const ALL_RIGHTS = ALL
export const NO_RIGHTS = NONE
