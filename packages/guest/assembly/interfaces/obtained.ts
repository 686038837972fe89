// The base of every client for a capability that arrived in an answer's results: the
// handle and the answer it came in, which holds the Return frame (and the capability's
// reference) until released.

import { Answer, Cap } from "../rpc/types";

/** A capability obtained from an answer; release() drops both. */
export class Obtained {
  constructor(public cap: Cap, public from: Answer) {}
  /** Wait for the answer that carries this capability; false (with `from.error`) if it failed. */
  ready(): bool { return this.from.wait() }
  release(): void {
    this.cap.release()
    this.from.dispose()
  }
}
