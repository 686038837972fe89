// Typed errors of the socket capabilities, with the codes schemas/net.capnp names.

import { WwError } from '@ww/interface'

export class NetError extends WwError {
  constructor(code: string, message: string, cause?: unknown) {
    super(code, `${code}: ${message}`, cause === undefined ? undefined : { cause })
  }
}

/** The address is not one this capability names (no packet was sent). */
export class CapDenied extends NetError {
  constructor(readonly addr: string) { super('ERR_CAP_DENIED', `${addr} is not granted`) }
}

/** Not a "host:port" address (IPv4 literal, [IPv6] literal, or DNS name; port 0–65535). */
export class BadAddress extends NetError {
  constructor(readonly addr: string) { super('ERR_BAD_ADDRESS', `${JSON.stringify(addr)} is not host:port`) }
}

/** The connection was refused, or the name did not resolve (not @ww/host's HostUnreachableError: an address, not a host of the cluster). */
export class AddressUnreachable extends NetError {
  constructor(readonly addr: string, cause: unknown) { super('ERR_HOST_UNREACHABLE', `${addr}: ${(cause as Error)?.message ?? cause}`, cause) }
}

/** A dial did not complete in time. */
export class NetTimeout extends NetError {
  constructor(readonly addr: string, ms: number) { super('ERR_TIMEOUT', `${addr}: no connection after ${ms} ms`) }
}

/** A listener already granted to one process was handed to another. */
export class CapInUse extends NetError {
  constructor(what: string, owner: string, claimant: string) { super('ERR_CAP_IN_USE', `${what} belongs to process ${owner}, not ${claimant}`) }
}

/** The address could not be bound (in use, not local). */
export class BindFailed extends NetError {
  constructor(readonly addr: string, cause: unknown) { super('ERR_LIMIT', `cannot listen on ${addr}: ${(cause as Error)?.message ?? cause}`, cause) }
}
