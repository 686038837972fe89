// Typed errors of the generator: callers branch on `code`, never on message text.

import { WwError } from '@ww/interface'

export type CapnpcErrorCode =
  | 'ERR_BAD_REQUEST' // the bytes are not a CodeGeneratorRequest we can read
  | 'ERR_UNKNOWN_NODE' // a type refers to a node id the request does not contain
  | 'ERR_UNRESOLVED_IMPORT' // a type lives in a file that is not generated and has no mapping
  | 'ERR_UNSUPPORTED' // a schema feature this generator does not emit
  | 'ERR_USAGE' // bad command line
  | 'ERR_STALE' // --check found generated files that differ from the request

export class CapnpcError extends WwError<CapnpcErrorCode> {
  constructor(code: CapnpcErrorCode, message: string) { super(code, message) }
}
