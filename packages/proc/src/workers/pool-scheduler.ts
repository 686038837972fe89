// The Scheduler of one worker in a pool. It differs from a plain one in two ways:
//
// - pids: every pid it hands out is one this worker owns (`index + 1 + k * workers`, the
//   base scheduler's `pids` option), so pids are unique across the pool without asking
//   anyone, and any thread finds a process's worker from its pid alone;
// - messages to a pid owned by another thread go through an *outbox*: a native process
//   standing for the remote receiver, whose bounded mailbox gives the sender the same
//   backpressure (it parks while full) as a local receiver would. The outbox moves each
//   message across (transferred or shared, never copied) and keeps at most WINDOW in
//   flight until the receiving worker's mailbox has taken them.

import { NativeProcess } from '../handle.js'
import type { Proc } from '../internal/proc.js'
import { Message } from '../message.js'
import { Scheduler, type SchedulerOptions } from '../scheduler.js'
import type { Pid } from '../status.js'
import { ownerOf, type WireMessage, type WorkerCounters } from './protocol.js'

/** `deliver`'s answer for a pid its worker has not handed out yet (the message is dropped, the pid not marked gone). */
export const NOT_YET = -2

/** Messages to one remote receiver in flight (sent, not yet taken by its mailbox). */
export const WINDOW = 16

/** Posts `m` to the thread that owns `m.to`; false when that thread is gone. */
export type RemotePost = (owner: number, m: WireMessage, transfer: ArrayBuffer[]) => boolean

interface Outbox { readonly native: NativeProcess; readonly to: Pid; inflight: number; credit: (() => void) | undefined }

export class PoolScheduler extends Scheduler {
  readonly index: number
  readonly workers: number
  readonly counters: WorkerCounters = { remoteOut: 0, remoteIn: 0, moved: 0, shared: 0, copied: 0 }
  readonly #post: RemotePost
  readonly #outboxes = new Map<Pid, Outbox>()
  /** Pids of outboxes: in the table, but not processes of the pool. */
  readonly #internal = new Set<Pid>()
  readonly #acks = new Map<number, Outbox>()
  #nextAck = 1
  readonly #down = new Set<number>()
  /** Remote pids their worker said are gone (pids are never reused, so this stays true). */
  readonly #gone = new Set<Pid>()

  constructor(index: number, workers: number, post: RemotePost, opts: SchedulerOptions = {}, firstPid = index + 1) {
    if (ownerOf(firstPid, workers) !== index) throw new RangeError(`pid ${firstPid} is not one worker ${index} of ${workers} owns`)
    super({ ...opts, pids: { first: firstPid, step: workers } })
    this.index = index
    this.workers = workers
    this.#post = post
  }

  /** True for processes the pool shows (not outboxes). */
  isPoolProcess(pid: Pid): boolean {
    return ownerOf(pid, this.workers) === this.index && !this.#internal.has(pid)
  }

  /**
   * The guest's `ww_proc.send`, once its handle named `pid` (a guest never gives a pid):
   * local receivers as usual, remote ones through their outbox.
   */
  override send(p: Proc, pid: number, m: Message): number | Promise<number> {
    if (!Number.isInteger(pid) || pid < 1) return -1
    if (ownerOf(pid, this.workers) === this.index) return this.#internal.has(pid) ? -1 : super.send(p, pid, m)
    const box = this.#outbox(pid)
    return box === undefined ? -1 : super.send(p, box.native.pid, m)
  }

  /**
   * A message from another thread for one of this worker's processes: 0 once its mailbox
   * took it; -1 if there is no such process and never will be (it ended, or its pid was
   * passed over); NOT_YET if its pid is still to be handed out.
   */
  deliver(w: WireMessage): number | Promise<number> {
    this.counters.remoteIn++
    const h = this.isPoolProcess(w.to) ? this.process(w.to) : undefined
    if (h === undefined) return ownerOf(w.to, this.workers) === this.index && w.to >= this.nextPid ? NOT_YET : -1
    // The bytes were copied once out of their sender on another thread; they are adopted here.
    const m = Message.adopt(w.bytes, w.from, w.kind, w.status, w.cap ?? 0)
    return h.send(m).then(() => 0, () => -1)
  }

  /** The receiving worker answered for a message an outbox sent. */
  acknowledged(ack: number, r: number): void {
    const box = this.#acks.get(ack)
    if (box === undefined) return
    this.#acks.delete(ack)
    box.inflight--
    const credit = box.credit
    box.credit = undefined
    credit?.()
    // The receiver is gone: later sends to it answer -1, as for a local dead process. A
    // pid not handed out yet is not gone: a guest must not be able to make a future
    // process unreachable by writing to its pid early.
    if (r < 0) {
      if (r !== NOT_YET) this.#gone.add(box.to)
      this.#closeOutbox(box)
    }
  }

  /** Another worker crashed: its processes are gone, and so are the messages in flight to them. */
  peerDown(index: number): void {
    this.#down.add(index)
    for (const box of [...this.#outboxes.values()]) if (ownerOf(box.to, this.workers) === index) this.#closeOutbox(box)
    for (const [ack, box] of this.#acks) if (ownerOf(box.to, this.workers) === index) this.#acks.delete(ack)
  }

  /**
   * Worker `index` was replaced by one whose pids start at `fence`: its pids are reachable
   * again, and those from the fence up, never used, are no longer known gone.
   */
  peerUp(index: number, fence: Pid): void {
    this.#down.delete(index)
    for (const pid of [...this.#gone]) if (ownerOf(pid, this.workers) === index && pid >= fence) this.#gone.delete(pid)
  }

  #outbox(to: Pid): Outbox | undefined {
    const have = this.#outboxes.get(to)
    if (have !== undefined) return have
    const owner = ownerOf(to, this.workers)
    if (owner >= this.workers || this.#down.has(owner) || this.#gone.has(to)) return undefined
    let native: NativeProcess
    try {
      native = this.spawnNative({ name: `outbox-${to}`, mailbox: WINDOW })
    } catch {
      return undefined // the table is full (or closing): the send fails as undeliverable
    }
    const box: Outbox = { native, to, inflight: 0, credit: undefined }
    this.#internal.add(native.pid)
    this.#outboxes.set(to, box)
    void this.#pump(box, owner)
    return box
  }

  async #pump(box: Outbox, owner: number): Promise<void> {
    try {
      for (;;) {
        while (box.inflight >= WINDOW) await new Promise<void>((r) => { box.credit = r })
        const m = await box.native.receive()
        const ack = this.#nextAck++
        box.inflight++
        this.#acks.set(ack, box)
        const wire: WireMessage = { to: box.to, from: m.from, kind: m.kind, bytes: this.#portable(m.bytes), ack, ...(m.status ? { status: m.status } : {}), ...(m.cap !== 0 ? { cap: m.cap } : {}) }
        this.counters.remoteOut++
        if (!this.#post(owner, wire, transferable(wire.bytes))) this.acknowledged(ack, -1)
      }
    } catch {
      // The outbox exited (its receiver is gone, or the scheduler closed).
    }
  }

  /** Bytes that can cross without a copy: shared, or a buffer of their own to move. */
  #portable(b: Uint8Array): Uint8Array {
    if (isShared(b.buffer)) { this.counters.shared++; return b }
    if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength) { this.counters.moved++; return b }
    this.counters.copied++
    return b.slice()
  }

  #closeOutbox(box: Outbox): void {
    if (this.#outboxes.get(box.to) === box) this.#outboxes.delete(box.to)
    box.credit?.()
    if (box.native.status === undefined) box.native.exit()
  }
}

/** The list to transfer with `bytes`: its buffer unless shared (then every receiver maps the same memory). */
export function transferable(bytes: Uint8Array): ArrayBuffer[] {
  return isShared(bytes.buffer) ? [] : [bytes.buffer as ArrayBuffer]
}

export function isShared(b: ArrayBufferLike): boolean {
  return Object.prototype.toString.call(b) === '[object SharedArrayBuffer]'
}
