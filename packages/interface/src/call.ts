// What every long call accepts.

/** An AbortSignal and/or a bound in milliseconds; a call ended by either fails with a typed error. */
export interface CallOptions {
  signal?: AbortSignal
  timeoutMs?: number
}
