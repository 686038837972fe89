// Shared by the guest tests: run a script guest and decode what it received.

import { Message as RpcMessage, Message_Which, Return_Which } from 'capnp-ts/src/std/rpc.capnp.js'
import { getStruct } from 'capnp-ts/src/serialization/pointers/struct.js'
import type { Struct, StructCtor } from 'capnp-ts'
import { readFrame } from '../../src/frame.js'
import { runGuest, type GuestExit, type RunGuestOptions, type GuestConnection } from '../../src/guest/index.js'
import { loggedFrames, type Script } from '../../src/bench/guests.js'

export interface ScriptRun { exit: GuestExit; guest: GuestConnection; received: RpcMessage[]; exports: Record<string, () => number> }

/** Build and run `script` with runGuest; returns the exit and the RPC messages the guest logged. */
export async function runScript(script: Script, opts: RunGuestOptions & { asyncify?: boolean } = {}): Promise<ScriptRun> {
  const wasm = await script.build({ asyncify: opts.asyncify ?? opts.suspension === 'asyncify' })
  let guest!: GuestConnection
  const exit = await runGuest(wasm, { ...opts, imports: (g) => { guest = g; return {} } })
  const exports = guest.instance!.exports as unknown as Record<string, () => number>
  const mem = guest.buffer()
  const cursor = exports.cursor!()
  // A script that moved its cursor elsewhere (or a hostile one) has no log to decode.
  const inLog = cursor >= script.logBase && cursor <= script.logBase + script.logBytes
  const received = (inLog ? loggedFrames(mem, script.logBase, cursor) : []).map((f) => readFrame(f.buffer as ArrayBuffer, 0, f.byteLength).message.getRoot(RpcMessage))
  return { exit, guest, received, exports }
}

/** The answer id and (for results) the content struct of a Return. */
export function returnOf<T extends Struct>(m: RpcMessage, Results?: StructCtor<T>): { answerId: number; results?: T; exception?: string } {
  if (m.which() !== Message_Which.RETURN) throw new Error(`expected a Return, got ${Message_Which[m.which()]}`)
  const r = m.getReturn()
  if (r.which() === Return_Which.EXCEPTION) return { answerId: r.getAnswerId(), exception: r.getException().getReason() }
  const out: { answerId: number; results?: T } = { answerId: r.getAnswerId() }
  if (Results !== undefined) out.results = getStruct(0, Results, r.getResults())
  return out
}
