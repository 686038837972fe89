// Errors a command reports to the user: a stable code, a message, and what to do next.

import { WwError } from '@ww/interface'

export type CliErrorCode = 'ERR_NO_HOST' | 'ERR_HOST_UNREACHABLE' | 'ERR_REMOTE' | 'ERR_NOT_WASM' | 'ERR_NO_FILE' | 'ERR_HOST_START' | 'ERR_TOKEN_REFUSED'

export class CliError extends WwError<CliErrorCode> {
  constructor(code: CliErrorCode, message: string, readonly hint?: string, options?: ErrorOptions) {
    super(code, message, options)
  }
}

/** No endpoint named, and no running host recorded in $WW_HOME. */
export class NoHostError extends CliError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_NO_HOST', message, 'start one with `ww host` (in another terminal), or name one with --host ADDR or WW_HOST', options)
  }
}

/** An endpoint was named but nothing answers there (not @ww/host's HostUnreachableError: no host of a cluster, a TCP endpoint). */
export class EndpointUnreachableError extends CliError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_HOST_UNREACHABLE', message, 'is the host still running? start one with `ww host`, or check --host / WW_HOST', options)
  }
}

/** The host's TCP endpoint did not accept the token shown (or none was). */
export class TokenRefusedError extends CliError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_TOKEN_REFUSED', message, 'pass the token file the host was started with: --token FILE or WW_TOKEN=FILE', options)
  }
}
