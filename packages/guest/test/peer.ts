// A scripted RPC peer for driving SDK code in a guest without the real host: ww.send
// records each frame (copied) and hands it to `onFrame`, which may queue replies that
// ww.recv / ww.poll deliver in order (honouring -needed). Used by the encoder
// conformance test only; end-to-end tests use @ww/transport.
import * as capnp from 'capnp-ts'

export interface Peer {
  sent: Uint8Array[]
  queue: Uint8Array[]
  neededSeen: number[]
  imports: WebAssembly.Imports
  attach(instance: WebAssembly.Instance): void
}

export function scriptedPeer(onFrame: (frame: Uint8Array, peer: Peer) => void): Peer {
  let memory: WebAssembly.Memory | undefined
  const mem = (): WebAssembly.Memory => {
    if (memory === undefined) throw new Error('peer not attached')
    return memory
  }
  const deliver = (ptr: number, cap: number): number => {
    const f = peer.queue[0]
    if (f === undefined) return 0
    if (f.byteLength > cap) { peer.neededSeen.push(f.byteLength); return -f.byteLength }
    peer.queue.shift()
    new Uint8Array(mem().buffer, ptr, f.byteLength).set(f)
    return f.byteLength
  }
  const peer: Peer = {
    sent: [],
    queue: [],
    neededSeen: [],
    attach(instance) { memory = instance.exports.memory as WebAssembly.Memory },
    imports: {
      ww: {
        send(ptr: number, len: number): number {
          if (ptr % 8 !== 0) throw new Error(`frame at ${ptr} is not 8-byte aligned`)
          const f = new Uint8Array(mem().buffer.slice(ptr, ptr + len))
          peer.sent.push(f)
          onFrame(f, peer)
          return 0
        },
        recv: deliver,
        poll: deliver,
      },
      env: {
        abort(msg: number, file: number, line: number, col: number): never {
          throw new Error(`guest abort: ${asString(mem(), msg)} at ${asString(mem(), file)}:${line}:${col}`)
        },
      },
    },
  }
  return peer
}

/** An AssemblyScript string (UTF-16, byte length at ptr-4). */
export function asString(memory: WebAssembly.Memory, ptr: number): string {
  if (ptr === 0) return ''
  const len = new DataView(memory.buffer).getUint32(ptr - 4, true)
  return Buffer.from(memory.buffer, ptr, len).toString('utf16le')
}

export function frameOf(m: capnp.Message): Uint8Array {
  return new Uint8Array(m.toArrayBuffer())
}
