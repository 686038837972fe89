// The BytecodeCache server: the core cache names modules "blake3:<hex>", the wire a
// 32-byte Cid (common.capnp); this converts at the edge.

import { process as proc } from '@ww/schema'
import type { BytecodeCache } from '../cache/bytecode-cache.js'
import { rpcError } from './errors.js'
import { guard } from './guard.js'
import type { Scope } from './scope.js'

export function cidText(bytes: Uint8Array): string {
  if (bytes.byteLength !== 32) throw rpcError('ERR_INVALID_ARGUMENT', `a Cid is 32 bytes, got ${bytes.byteLength}`)
  return `blake3:${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`
}

export function cidBytes(cid: string): Uint8Array {
  return Buffer.from(cid.slice('blake3:'.length), 'hex')
}

export function bytecodeCacheServer(cache: BytecodeCache, scope: Scope): proc.BytecodeCache$Server {
  return new proc.BytecodeCache.Server(guard(scope, 'bytecodeCache', {
    put(p, r) {
      const bytes = p.getBytecode().toUint8Array()
      // Validates without keeping a view: the cache copies the bytes once on put.
      if (!WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>)) throw rpcError('ERR_INVALID_MODULE', 'bytes do not validate as a WebAssembly module')
      r.setCid(cidBytes(cache.put(bytes)))
    },
    get(p, r) {
      r.setBytecode(cache.get(cidText(p.getCid().toUint8Array())))
    },
    has(p, r) {
      r.setPresent(cache.has(cidText(p.getCid().toUint8Array())))
    },
  }))
}
