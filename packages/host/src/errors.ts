import { AbortedError, WwError } from '@ww/interface'

/** Every error @ww/host throws is a HostError (or @ww/interface's AbortedError) with a stable `code`; callers switch on it. */
export type HostErrorCode =
  | 'ERR_CAP_DENIED' | 'ERR_REVOKED' | 'ERR_NOT_FOUND' | 'ERR_HOST_UNREACHABLE'
  | 'ERR_TIMEOUT' | 'ERR_ABORTED' | 'ERR_INVALID_PATH' | 'ERR_INVALID_ARGUMENT'
  | 'ERR_CLOSED' | 'ERR_QUEUE_FULL' | 'ERR_TOO_LARGE' | 'ERR_RELEASED' | 'ERR_RATE_LIMITED'
  | 'ERR_BAD_PEER_MESSAGE'

export class HostError extends WwError<HostErrorCode> {}

export class CapDeniedError extends HostError {
  constructor(what: string) { super('ERR_CAP_DENIED', `capability denied: ${what}`) }
}
export class RevokedError extends HostError {
  constructor(what = 'capability') { super('ERR_REVOKED', `${what} was revoked`) }
}
export class ReleasedError extends HostError {
  constructor(what = 'capability') { super('ERR_RELEASED', `${what} was released`) }
}
export class NotFoundError extends HostError {
  constructor(what: string) { super('ERR_NOT_FOUND', `not found: ${what}`) }
}
export class HostUnreachableError extends HostError {
  constructor(host: string, options?: ErrorOptions) { super('ERR_HOST_UNREACHABLE', `host unreachable: ${host}`, options) }
}
export class TimeoutError extends HostError {
  constructor(what: string) { super('ERR_TIMEOUT', `timed out: ${what}`) }
}
// One AbortedError for every package (its code is ERR_ABORTED), re-exported where callers look.
export { AbortedError }
export class InvalidPathError extends HostError {
  constructor(path: string, why: string) { super('ERR_INVALID_PATH', `invalid path ${JSON.stringify(path)}: ${why}`) }
}
export class InvalidArgumentError extends HostError {
  constructor(why: string) { super('ERR_INVALID_ARGUMENT', why) }
}
export class ClosedError extends HostError {
  constructor(what: string) { super('ERR_CLOSED', `${what} is closed`) }
}
export class QueueFullError extends HostError {
  constructor(what: string) { super('ERR_QUEUE_FULL', `queue full: ${what}`) }
}
/** A publisher over its flood limit (src/pubsub/flood.ts): the message was not published. */
export class RateLimitedError extends HostError {
  constructor(why: string) { super('ERR_RATE_LIMITED', why) }
}
export class TooLargeError extends HostError {
  constructor(what: string, size: number, limit: number) { super('ERR_TOO_LARGE', `${what} too large: ${size} > ${limit}`) }
}

// Every code of the union, and only those: a Record keyed by the union will not compile
// with one missing (a list did, and lost ERR_RATE_LIMITED in a merge).
const CODE_TABLE: Record<HostErrorCode, true> = {
  ERR_CAP_DENIED: true, ERR_REVOKED: true, ERR_NOT_FOUND: true, ERR_HOST_UNREACHABLE: true, ERR_TIMEOUT: true,
  ERR_ABORTED: true, ERR_INVALID_PATH: true, ERR_INVALID_ARGUMENT: true, ERR_CLOSED: true, ERR_QUEUE_FULL: true,
  ERR_TOO_LARGE: true, ERR_RELEASED: true, ERR_RATE_LIMITED: true, ERR_BAD_PEER_MESSAGE: true,
}
const CODES: ReadonlySet<string> = new Set(Object.keys(CODE_TABLE))

/** True for an error @ww/host throws (a HostError, or the shared AbortedError); with `code`, only that code. */
export function isHostError(e: unknown, code?: HostErrorCode): e is WwError<HostErrorCode> {
  return (e instanceof HostError || e instanceof AbortedError) && CODES.has(e.code) && (code === undefined || e.code === code)
}
