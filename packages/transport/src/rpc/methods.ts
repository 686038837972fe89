// Method lookup indexed once per Server: capnp-ts scans `server.methods` with Array.find
// on every call; we build a (interfaceId → methodId[]) index the first time a Server is
// called and keep it beside the Server. A server that answers any method (AnyServer, e.g.
// a forwarder) is asked only after the index missed, so ordinary servers pay nothing.

import { Server, type ServerMethod, type Struct } from 'capnp-ts'
import type { Question } from './question.js'

/** How a ReplyMethod answers the call it was given: exactly one of done/fail, once. */
export interface Reply {
  /** The results struct is filled: send the Return (may run inside another connection's receive()). */
  done(): void
  fail(e: unknown): void
  /** The call went on as question `q`: calls pipelined on this answer may follow it there. */
  forwardedAs(q: Question): void
}

/**
 * A method answering through a Reply instead of a promise (a forwarder): it can answer
 * synchronously when the Return it waits for arrives, with no promise hop per call.
 */
export interface ReplyMethod extends ServerMethod {
  reply(params: Struct, results: Struct, reply: Reply): void
}

/** A Server that takes calls of any interface and method, without a method table. */
export abstract class AnyServer extends Server {
  constructor() { super([]) }
  /** The method to run for (interfaceId, methodId); undefined: unimplemented. */
  abstract method(interfaceId: bigint, methodId: number): ServerMethod | undefined
}

const INDEX = new WeakMap<Server, Map<bigint, ServerMethod[]>>()

export function findMethod(server: Server, interfaceId: bigint, methodId: number): ServerMethod | undefined {
  let idx = INDEX.get(server)
  if (idx === undefined) {
    idx = new Map()
    for (const m of server.methods) {
      let byId = idx.get(m.interfaceId)
      if (byId === undefined) idx.set(m.interfaceId, (byId = []))
      byId[m.methodId] = m
    }
    INDEX.set(server, idx)
  }
  const m = idx.get(interfaceId)?.[methodId]
  if (m === undefined && server instanceof AnyServer) return server.method(interfaceId, methodId)
  return m
}
