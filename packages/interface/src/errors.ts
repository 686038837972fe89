// The base of every typed error in ww: a stable `code` callers switch on, never the
// message. Each package derives its own family (HostError, ProcError, TransportError…);
// the few errors that mean the same thing everywhere are defined once, here.

export class WwError<Code extends string = string> extends Error {
  readonly code: Code
  constructor(code: Code, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** True for a ww error; with `code`, only for that code. */
export function isWwError<Code extends string>(e: unknown, code?: Code): e is WwError<Code> {
  return e instanceof WwError && (code === undefined || e.code === code)
}

/** A call gave up because its AbortSignal fired (the signal's reason is the `cause`). */
export class AbortedError extends WwError<'ERR_ABORTED'> {
  constructor(what: string, options?: ErrorOptions) { super('ERR_ABORTED', `aborted: ${what}`, options) }
}
