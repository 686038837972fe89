// Per-grant bounds on sockets (schemas/process.capnp NetGrants). The open-connection cap
// is per process and lives in the policy (`grant(…, { sockets: { maxConnections } })`);
// these bound each connection and listener.

export interface NetLimits {
  /** Bytes buffered per connection in each direction (receive queue, send queue). */
  readonly bufferBytes: number
  /** A connection with no traffic for this long is closed (FIN); 0: never. */
  readonly idleTimeoutMs: number
  /** Connections accepted by the kernel but not yet by the guest; more are refused (RST). */
  readonly backlog: number
  /** After a close, how long the peer gets to finish its side before the socket is destroyed. */
  readonly lingerMs: number
  /** Dials: how long a connect may take. */
  readonly connectTimeoutMs: number
}

export const DEFAULT_NET_LIMITS: NetLimits = Object.freeze({
  bufferBytes: 64 * 1024,
  idleTimeoutMs: 60_000,
  backlog: 511,
  lingerMs: 5_000,
  connectTimeoutMs: 10_000,
})

export function netLimits(l: Partial<NetLimits> = {}): NetLimits {
  const out = { ...DEFAULT_NET_LIMITS, ...l }
  for (const [k, v] of Object.entries(out)) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 2 ** 31) throw new RangeError(`net limit ${k}: expected an integer in [0, 2^31], got ${v}`)
  }
  if (out.bufferBytes < 1) throw new RangeError('net limit bufferBytes must be at least 1')
  return Object.freeze(out)
}
