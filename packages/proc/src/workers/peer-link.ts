// The link between two workers: a ring each way in shared memory (ring.ts) for messages
// and their acknowledgements, and a MessagePort for what a ring should not carry (a
// message larger than RING_MAX_MESSAGE, moved; one in shared memory, shared). A PORT
// record marks a port message's place among the ring's records, so the two never reorder.
//
// The receiving worker reads its rings between slices and when it runs out of work
// (PoolScheduler), not through its event loop; a writer rings the receiver's doorbell
// after each record, which costs a notify only while the receiver is parked.
//
// A full ring pushes back: what cannot go in now waits here, in order, and the writer
// waits (Atomics.waitAsync on the ring's tail) until the reader frees room. Only records
// the outboxes' windows allowed are ever written, so this backlog is bounded too.

import type { MessagePort } from 'node:worker_threads'
import type { WireMessage } from './protocol.js'
import { ACK, PORT, RING_MAX_MESSAGE, RingCorruptError, RingReader, RingWriter, ringBell, waitAsync, type RingVisitor } from './ring.js'

/** The shared memory of one link, as this worker sees it. */
export interface PeerRings {
  /** This worker → the peer. */
  readonly out: SharedArrayBuffer
  /** The peer → this worker. */
  readonly in: SharedArrayBuffer
  /** The peer's doorbell. */
  readonly bell: SharedArrayBuffer
}

export interface PeerHandlers {
  /** A message from the ring, its bytes `src[start, end)` valid during the call only: answer with ack(box, r). */
  message(to: number, from: number, cap: number, box: number, src: Uint8Array, start: number, end: number): void
  /** A message that came by port, at its place in the order: answer with ack(m.ack, r). */
  deliver(m: WireMessage): void
  acknowledged(box: number, r: number): void
  /** The link ended: the peer's ring held a record that cannot be. */
  failed(e: RingCorruptError): void
  /** Something arrived that the next poll() reads (a port message a ring record waits for). */
  wake(): void
}

type Outgoing =
  | { readonly t: 'msg'; readonly to: number; readonly from: number; readonly cap: number; readonly box: number; readonly bytes: Uint8Array }
  | { readonly t: 'ack'; readonly box: number; readonly r: number }
  | { readonly t: 'port'; readonly seq: number }

interface PortMessage { readonly seq: number; readonly m: WireMessage }

export class PeerLink {
  readonly #port: MessagePort
  readonly #writer: RingWriter
  readonly #reader: RingReader
  readonly #bell: Int32Array
  readonly #visitor: RingVisitor
  readonly #handlers: PeerHandlers
  #backlog: Outgoing[] = []
  #waitingForRoom = false
  #nextSeq = 1
  /** Port messages whose PORT record the reader has not reached yet. */
  readonly #fromPort = new Map<number, WireMessage>()
  /** The reader stopped at the PORT record of this port message, not here yet (0: none). */
  #awaitingPort = 0
  #ended: Error | undefined

  constructor(port: MessagePort, rings: PeerRings, handlers: PeerHandlers) {
    this.#port = port
    this.#writer = new RingWriter(rings.out)
    this.#reader = new RingReader(rings.in)
    this.#bell = new Int32Array(rings.bell)
    this.#handlers = handlers
    this.#visitor = {
      message: handlers.message,
      ack: handlers.acknowledged,
      port: (seq) => {
        const m = this.#fromPort.get(seq)
        if (m === undefined) {
          this.#awaitingPort = seq
          return false
        }
        this.#fromPort.delete(seq)
        handlers.deliver(m)
        return true
      },
    }
    port.on('message', (p: PortMessage) => {
      this.#fromPort.set(p.seq, p.m)
      if (p.seq === this.#awaitingPort) {
        this.#awaitingPort = 0
        handlers.wake()
      }
    })
  }

  /** Why the link ended, if it did. */
  get ended(): Error | undefined { return this.#ended }

  /** Records from the peer wait to be read. */
  get pending(): boolean { return this.#ended === undefined && this.#awaitingPort === 0 && this.#reader.pending }

  /**
   * A guest's message straight from its memory into the ring (the one copy out of it):
   * false when it cannot go now (too large, the ring full, earlier records waiting).
   */
  tryMessage(to: number, from: number, cap: number, box: number, src: Uint8Array, start: number, end: number): boolean {
    if (this.#ended !== undefined || this.#backlog.length > 0 || end - start > RING_MAX_MESSAGE) return false
    if (!this.#writer.message(to, from, cap, box, src, start, end)) return false
    ringBell(this.#bell)
    return true
  }

  /**
   * A message in host custody (a Message's bytes, never written again): small ones are
   * copied into the ring; large ones, or `byPort` (shared bytes, a notice), go by port
   * (moved or shared) with a PORT record in the ring. In order with everything sent before; waits for room, never drops.
   * Returns how it went.
   */
  send(m: WireMessage, box: number, byPort: boolean, transfer: ArrayBuffer[]): 'ring' | 'port' {
    if (!byPort && m.bytes.byteLength <= RING_MAX_MESSAGE) {
      this.#out({ t: 'msg', to: m.to, from: m.from, cap: m.cap ?? 0, box, bytes: m.bytes })
      return 'ring'
    }
    const seq = this.#nextSeq++
    if (this.#ended === undefined) this.#port.postMessage({ seq, m: { ...m, ack: box } } satisfies PortMessage, transfer)
    this.#out({ t: 'port', seq })
    return 'port'
  }

  /** The answer for a message of the peer's outbox `box`. */
  ack(box: number, r: number): void {
    this.#out({ t: 'ack', box, r })
  }

  /** Reads what the peer wrote; true if anything was read. A corrupt record ends the link (failed). */
  poll(): boolean {
    if (!this.pending) return false
    try {
      return this.#reader.read(this.#visitor) > 0
    } catch (e) {
      if (!(e instanceof RingCorruptError)) throw e
      this.close(e)
      this.#handlers.failed(e)
      return true
    }
  }

  close(reason: Error = new Error('link closed')): void {
    if (this.#ended !== undefined) return
    this.#ended = reason
    this.#backlog = []
    this.#fromPort.clear()
    this.#port.close()
  }

  #out(o: Outgoing): void {
    if (this.#ended !== undefined) return
    if (this.#backlog.length === 0 && this.#write(o)) {
      ringBell(this.#bell)
      return
    }
    this.#backlog.push(o)
    this.#awaitRoom()
  }

  #write(o: Outgoing): boolean {
    switch (o.t) {
      case 'msg': return this.#writer.message(o.to, o.from, o.cap, o.box, o.bytes, 0, o.bytes.byteLength)
      case 'ack': return this.#writer.small(ACK, o.box, o.r)
      case 'port': return this.#writer.small(PORT, o.seq, 0)
    }
  }

  /** Writes the backlog in order as room comes. */
  readonly #flush = (): void => {
    this.#waitingForRoom = false
    if (this.#ended !== undefined) return
    let i = 0
    while (i < this.#backlog.length && this.#write(this.#backlog[i]!)) i++
    if (i > 0) {
      this.#backlog.splice(0, i)
      ringBell(this.#bell)
    }
    if (this.#backlog.length > 0) this.#awaitRoom()
  }

  #awaitRoom(): void {
    if (this.#waitingForRoom) return
    this.#waitingForRoom = true
    const o = this.#backlog[0]!
    const w = this.#writer.wantRoom(o.t === 'msg' ? 32 + o.bytes.byteLength : 16)
    const r = w === undefined ? undefined : waitAsync(w.cells, w.index, w.value)
    if (r === undefined || !r.async) queueMicrotask(this.#flush)
    else void r.value.then(this.#flush)
  }
}
