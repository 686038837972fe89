// Noise's transport framing — a 2-byte big-endian length, then that many bytes of
// ciphertext — decoded without exceptions or Uint8ArrayList bookkeeping.
//
// Why: noise decodes with @libp2p/utils' LengthPrefixedDecoder, which appends every chunk
// to a Uint8ArrayList and learns that a chunk is used up by catching the RangeError its
// length decoder throws; host.rpc's CPU profile had that throw (uint16BEDecode) and the
// list's append/sublist/consume at ~9% of a host-to-host ping loop. Here a message that
// lies whole in a received chunk is a view on it (noise decrypts it in place), and only a
// message split across chunks is joined, once it is all there.

type Chunk = Uint8Array | { subarray(): Uint8Array; byteLength: number }

/** The longest noise message: its length prefix is 16 bits. */
const MAX_MESSAGE = 0xffff

export class NoiseFrameDecoder {
  #parts: Uint8Array[] = [] // an unfinished message's bytes, as received
  #have = 0

  /** The messages completed by `chunk`, in order (empty ones skipped, as noise's decoder does). */
  decode(chunk: Chunk): Uint8Array[] {
    const out: Uint8Array[] = []
    // A Uint8ArrayList's subarray() is its bytes (a copy only when it holds several parts).
    let buf = chunk instanceof Uint8Array ? chunk : chunk.subarray()
    if (buf.byteLength === 0) return out
    if (this.#have > 0) {
      this.#parts.push(buf)
      this.#have += buf.byteLength
      if (this.#have < this.#needed()) return out
      buf = join(this.#parts, this.#have)
      this.#parts = []
      this.#have = 0
    }
    let pos = 0
    while (buf.byteLength - pos >= 2) {
      const len = (buf[pos]! << 8) | buf[pos + 1]!
      if (buf.byteLength - pos - 2 < len) break
      const start = pos + 2
      pos = start + len
      if (len > 0) out.push(buf.subarray(start, pos))
    }
    if (pos < buf.byteLength) {
      // Copied: the caller may reuse the chunk once this returns.
      this.#parts = [buf.slice(pos)]
      this.#have = buf.byteLength - pos
    }
    return out
  }

  /** Bytes the unfinished message needs in all (its prefix included), once its prefix is here. */
  #needed(): number {
    if (this.#have < 2) return 2
    const [first, second] = this.#parts
    const hi = first![0]!
    const lo = first!.byteLength > 1 ? first![1]! : second![0]!
    return 2 + Math.min((hi << 8) | lo, MAX_MESSAGE)
  }
}

function join(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total)
  let at = 0
  for (const p of parts) { out.set(p, at); at += p.byteLength }
  return out
}
