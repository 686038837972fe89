/** Every error @ww/host throws is a HostError with a stable `code`; callers switch on it. */
export type HostErrorCode =
  | 'ERR_CAP_DENIED' | 'ERR_REVOKED' | 'ERR_NOT_FOUND' | 'ERR_HOST_UNREACHABLE'
  | 'ERR_TIMEOUT' | 'ERR_ABORTED' | 'ERR_INVALID_PATH' | 'ERR_INVALID_ARGUMENT'
  | 'ERR_CLOSED' | 'ERR_QUEUE_FULL' | 'ERR_TOO_LARGE' | 'ERR_RELEASED' | 'ERR_RATE_LIMITED'

export class HostError extends Error {
  readonly code: HostErrorCode
  constructor(code: HostErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

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
export class AbortedError extends HostError {
  constructor(what: string, options?: ErrorOptions) { super('ERR_ABORTED', `aborted: ${what}`, options) }
}
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

export function isHostError(e: unknown, code?: HostErrorCode): e is HostError {
  return e instanceof HostError && (code === undefined || e.code === code)
}
