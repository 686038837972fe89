// Typed reasons a guest process ends with, beside the frame errors of ../errors.ts
// (ERR_BAD_FRAME, ERR_LIMIT, ERR_RPC_PROTOCOL). Each carries the process id.

import { TransportError, type TransportErrorOptions } from '../errors.js'

/** A pointer or range the guest passed lies outside its memory. */
export class GuestMemoryError extends TransportError {
  constructor(reason: string, opts?: TransportErrorOptions) { super('ERR_GUEST_MEMORY', reason, opts) }
}

/** The module does not keep the guest ABI (missing export, cannot suspend, bad asyncify data). */
export class GuestAbiError extends TransportError {
  constructor(reason: string, opts?: TransportErrorOptions) { super('ERR_GUEST_ABI', reason, opts) }
}

/** The guest trapped (unreachable, out-of-bounds access, stack exhausted) or an import threw. */
export class GuestTrapError extends TransportError {
  constructor(reason: string, opts?: TransportErrorOptions) { super('ERR_GUEST_TRAP', reason, opts) }
}

/** The host ended the guest (AbortSignal, kill()). */
export class GuestKilledError extends TransportError {
  constructor(reason: string, opts?: TransportErrorOptions) { super('ERR_KILLED', reason, opts) }
}

/** `e` as a TransportError of process `processId`: typed errors keep their class, traps become GuestTrapError. */
export function asGuestError(e: unknown, processId: string | number | undefined): TransportError {
  let err: TransportError
  if (e instanceof TransportError) err = e
  else if (isTrap(e)) err = new GuestTrapError(`guest trapped: ${(e as Error).message}`, { cause: e })
  else err = new GuestTrapError(`guest failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e })
  if (err.processId === undefined && processId !== undefined) err.processId = processId
  return err
}

function isTrap(e: unknown): boolean {
  // Jest's vm context has its own WebAssembly namespace: also match by name.
  return e instanceof WebAssembly.RuntimeError || (e instanceof Error && (e.name === 'RuntimeError' || e instanceof RangeError))
}
