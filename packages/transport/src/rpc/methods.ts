// Method lookup indexed once per Server: capnp-ts scans `server.methods` with Array.find
// on every call; we build a (interfaceId → methodId[]) index the first time a Server is
// called and keep it beside the Server.

import type { Server, ServerMethod } from 'capnp-ts'

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
  return idx.get(interfaceId)?.[methodId]
}
