// Connection counters; table sizes are read live from the tables.

export class RpcStats {
  messagesIn = 0
  messagesOut = 0
  callsIn = 0
  callsOut = 0
  /** Borrowed frames copied once because their content was needed after receive() returned. */
  deferredCopies = 0

  constructor(
    readonly _exports: { readonly size: number },
    readonly _imports: { readonly size: number },
    readonly _questions: { readonly size: number },
    readonly _answers: { readonly size: number },
  ) {}

  /** Capabilities we export to the peer now. */
  get exports(): number { return this._exports.size }
  /** Capabilities we import from the peer now. */
  get imports(): number { return this._imports.size }
  /** Our calls awaiting their Return. */
  get questions(): number { return this._questions.size }
  /** Peer calls not yet finished. */
  get answers(): number { return this._answers.size }

  toJSON(): Record<string, number> {
    const { messagesIn, messagesOut, callsIn, callsOut, deferredCopies, exports, imports, questions, answers } = this
    return { messagesIn, messagesOut, callsIn, callsOut, deferredCopies, exports, imports, questions, answers }
  }
}
