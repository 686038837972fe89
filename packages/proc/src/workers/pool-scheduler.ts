// The Scheduler of one worker in a pool. It differs from a plain one in three ways:
//
// - pids: every pid it hands out is one this worker owns (`index + 1 + k * workers`, the
//   base scheduler's `pids` option), so pids are unique across the pool without asking
//   anyone, and any thread finds a process's worker from its pid alone;
// - messages to a pid owned by another thread go through an *outbox*: a native process
//   standing for the remote receiver, whose bounded mailbox gives the sender the same
//   backpressure (it parks while full) as a local receiver would. At most WINDOW of its
//   messages are in flight until the receiving worker's mailbox has taken them. While the
//   outbox is empty and has credit, a guest's message skips it: it is copied from the
//   guest's memory straight into the ring to the other worker (peer-link.ts, ring.ts);
// - it reads its rings between slices and when it runs dry, where a plain scheduler lets
//   the event loop turn: a message for a guest waiting in recv is copied from the ring
//   into its buffer and the guest runs in the same dispatcher pass. Run dry, it parks on
//   its doorbell (Atomics.waitAsync), which peers ring only while it is parked.

import type { MessagePort } from 'node:worker_threads'
import { NativeProcess } from '../handle.js'
import type { Proc } from '../internal/proc.js'
import type { Waiter } from '../mailbox.js'
import { Message } from '../message.js'
import { Scheduler, type SchedulerOptions } from '../scheduler.js'
import type { Pid } from '../status.js'
import { PeerLink, type PeerRings } from './peer-link.js'
import { ownerOf, type WireMessage, type WorkerCounters } from './protocol.js'
import { AWAKE, PARKED, RING_MAX_MESSAGE, waitAsync } from './ring.js'

/** `deliver`'s answer for a pid its worker has not handed out yet (the message is dropped, the pid not marked gone). */
export const NOT_YET = -2

/** Messages to one remote receiver in flight (sent, not yet taken by its mailbox). */
export const WINDOW = 16

interface Outbox {
  readonly id: number
  readonly native: NativeProcess
  readonly to: Pid
  readonly owner: number
  inflight: number
  /** Waiting for a message in its mailbox (whenNonEmptyCall). */
  armed: boolean
  readonly waiter: Waiter<void>
}

export class PoolScheduler extends Scheduler {
  readonly index: number
  readonly workers: number
  readonly counters: WorkerCounters = { remoteOut: 0, remoteIn: 0, ring: 0, moved: 0, shared: 0, copied: 0 }
  readonly #links: Array<PeerLink | undefined> = []
  readonly #bell: Int32Array
  /** This thread told its peers it is parked (they notify after writing). */
  #parked = false
  /** A waitAsync on the doorbell is pending (one at most). */
  #sleeping = false
  readonly #outboxes = new Map<Pid, Outbox>()
  readonly #boxes = new Map<number, Outbox>()
  #nextBox = 1
  /** Pids of outboxes: in the table, but not processes of the pool. */
  readonly #internal = new Set<Pid>()
  readonly #down = new Set<number>()
  /** Remote pids their worker said are gone (pids are never reused, so this stays true). */
  readonly #gone = new Set<Pid>()

  constructor(index: number, workers: number, bell: SharedArrayBuffer, opts: SchedulerOptions = {}, firstPid = index + 1) {
    if (ownerOf(firstPid, workers) !== index) throw new RangeError(`pid ${firstPid} is not one worker ${index} of ${workers} owns`)
    super({ ...opts, pids: { first: firstPid, step: workers } })
    this.index = index
    this.workers = workers
    this.#bell = new Int32Array(bell)
  }

  /** True for processes the pool shows (not outboxes). */
  isPoolProcess(pid: Pid): boolean {
    return ownerOf(pid, this.workers) === this.index && !this.#internal.has(pid)
  }

  /** The link to worker `index` (why it ended, if it did): diagnostics and tests. */
  link(index: number): PeerLink | undefined { return this.#links[index] }

  /**
   * A link to worker `index`: its port and rings. With `fence`, it is a replacement whose
   * pids start there: they are reachable again, and those from the fence up, never used,
   * are no longer known gone.
   */
  connect(index: number, port: MessagePort, rings: PeerRings, fence?: Pid): void {
    this.#links[index]?.close()
    if (fence !== undefined) {
      this.#down.delete(index)
      for (const pid of [...this.#gone]) if (ownerOf(pid, this.workers) === index && pid >= fence) this.#gone.delete(pid)
    }
    const link: PeerLink = new PeerLink(port, rings, {
      message: (to, from, cap, box, src, start, end) => answer(link, box, this.#fromRing(to, from, cap, src, start, end)),
      deliver: (m) => answer(link, m.ack!, this.deliver(m)),
      acknowledged: (box, r) => this.acknowledged(box, r),
      failed: () => this.peerDown(index),
      wake: () => this.dispatch(),
    })
    this.#links[index] = link
    // The peer may have written (and rung) before this link reached us: read it now.
    this.dispatch()
  }

  /**
   * The guest's `ww_proc.send`, once its handle named `pid` (a guest never gives a pid),
   * when its bytes could not go straight (handOver): local receivers as usual, remote
   * ones through their outbox.
   */
  override send(p: Proc, pid: number, m: Message): number | Promise<number> {
    if (!Number.isInteger(pid) || pid < 1) return -1
    if (ownerOf(pid, this.workers) === this.index) return this.#internal.has(pid) ? -1 : super.send(p, pid, m)
    const box = this.#outbox(pid)
    return box === undefined ? -1 : super.send(p, box.native.pid, m)
  }

  /**
   * A guest's bytes straight to their receiver: into its recv buffer when it waits on this
   * worker, or into the ring to its worker when its outbox is empty and has credit (the
   * one copy out of the sender). False: they go as a Message (send).
   */
  override handOver(p: Proc, pid: number, src: Uint8Array, start: number, end: number, cap: number): boolean {
    const owner = ownerOf(pid, this.workers)
    if (owner === this.index) return !this.#internal.has(pid) && super.handOver(p, pid, src, start, end, cap)
    // Shared message memory: the bytes go once into shared memory and are shared from there (by port).
    if (this.messageAlloc !== undefined || end - start > RING_MAX_MESSAGE) return false
    const box = this.#outbox(pid)
    if (box === undefined || box.inflight >= WINDOW || box.native.proc.mailbox.size > 0) return false
    const link = this.#links[owner]
    if (link === undefined || !link.tryMessage(pid, p.pid, cap, box.id, src, start, end)) return false
    box.inflight++
    p.sent++
    this.counters.remoteOut++
    this.counters.ring++
    return true
  }

  /**
   * A message from the main thread (or by port from a worker) for one of this worker's
   * processes: 0 once its mailbox took it; -1 if there is no such process and never will
   * be (it ended, or its pid was passed over); NOT_YET if its pid is still to be handed out.
   */
  deliver(w: WireMessage): number | Promise<number> {
    this.counters.remoteIn++
    const h = this.isPoolProcess(w.to) ? this.process(w.to) : undefined
    if (h === undefined) return this.#absent(w.to)
    // The bytes were copied once out of their sender on another thread; they are adopted here.
    const m = Message.adopt(w.bytes, w.from, w.kind, w.status, w.cap ?? 0)
    return h.send(m).then(() => 0, () => -1)
  }

  /** A ring record for one of this worker's processes: answered as deliver() answers. */
  #fromRing(to: Pid, from: Pid, cap: Pid, src: Uint8Array, start: number, end: number): number | Promise<number> {
    this.counters.remoteIn++
    const h = this.isPoolProcess(to) ? this.process(to) : undefined
    if (h === undefined) return this.#absent(to)
    if (this.handOverFrom(from, to, src, start, end, cap)) return 0
    // Out of the ring into a buffer of its own (the ring's space is reused at once).
    const m = Message.adopt(src.slice(start, end), from, 'user', undefined, cap)
    const mailbox = h.proc.mailbox
    if (mailbox.offer(m)) return 0
    // Full: it waits for room here, answered then; the sender's window bounds how many wait.
    return mailbox.put(m).then(() => 0, () => -1)
  }

  #absent(to: Pid): number {
    return ownerOf(to, this.workers) === this.index && to >= this.nextPid ? NOT_YET : -1
  }

  /** The receiving worker answered for a message of outbox `id`. */
  acknowledged(id: number, r: number): void {
    const box = this.#boxes.get(id)
    if (box === undefined) return
    box.inflight--
    // The receiver is gone: later sends to it answer -1, as for a local dead process. A
    // pid not handed out yet is not gone: a guest must not be able to make a future
    // process unreachable by writing to its pid early.
    if (r < 0) {
      if (r !== NOT_YET) this.#gone.add(box.to)
      this.#closeOutbox(box)
      return
    }
    this.#drain(box)
  }

  /** Another worker crashed (or its link broke): its processes are gone, and so are the messages in flight to them. */
  peerDown(index: number): void {
    this.#links[index]?.close()
    this.#links[index] = undefined
    this.#down.add(index)
    for (const box of [...this.#outboxes.values()]) if (box.owner === index) this.#closeOutbox(box)
  }

  // ---- reading the rings ----

  protected override inbound(): void {
    if (this.#parked) {
      this.#parked = false
      Atomics.store(this.#bell, 0, AWAKE)
    }
    for (const l of this.#links) l?.poll()
  }

  // No spin before parking: measured on this 2-core machine under load, spinning 20 or
  // 50 µs for the answer cut the rates 2.5-7× (the spinner holds the core the other side
  // needs); WORKERS.md has the figures.
  protected override idle(): boolean {
    // Parked: peers notify after writing. Checked again after saying so, so that a
    // record written just before is not left unread.
    this.#parked = true
    Atomics.store(this.#bell, 0, PARKED)
    if (this.#pending()) { this.inbound(); return true }
    if (this.#sleeping) return false
    const w = waitAsync(this.#bell, 0, PARKED)
    if (!w.async) { this.inbound(); return true }
    this.#sleeping = true
    void w.value.then(() => {
      this.#sleeping = false
      this.dispatch()
    })
    return false
  }

  #pending(): boolean {
    for (const l of this.#links) if (l?.pending) return true
    return false
  }

  // ---- outboxes ----

  #outbox(to: Pid): Outbox | undefined {
    const have = this.#outboxes.get(to)
    if (have !== undefined) return have
    const owner = ownerOf(to, this.workers)
    if (owner >= this.workers || this.#down.has(owner) || this.#gone.has(to) || this.#links[owner] === undefined) return undefined
    let native: NativeProcess
    try {
      native = this.spawnNative({ name: `outbox-${to}`, mailbox: WINDOW })
    } catch {
      return undefined // the table is full (or closing): the send fails as undeliverable
    }
    const box: Outbox = {
      id: this.#nextBox++, native, to, owner, inflight: 0, armed: false,
      waiter: { resolve: () => { box.armed = false; this.#drain(box) }, reject: () => { box.armed = false } },
    }
    this.#internal.add(native.pid)
    this.#outboxes.set(to, box)
    this.#boxes.set(box.id, box)
    this.#drain(box) // waits for its first message
    return box
  }

  /** Sends what waits in the outbox while it has credit; then waits for more (or for credit: acknowledged). */
  #drain(box: Outbox): void {
    const mailbox = box.native.proc.mailbox
    while (box.inflight < WINDOW) {
      const m = mailbox.take()
      if (m === undefined) {
        if (!box.armed && !mailbox.closed) {
          box.armed = true
          mailbox.whenNonEmptyCall(box.waiter)
        }
        return
      }
      const link = this.#links[box.owner]
      if (link === undefined) {
        this.#gone.add(box.to)
        this.#closeOutbox(box)
        return
      }
      box.inflight++
      this.counters.remoteOut++
      // A notice never goes through an outbox; a shared message is shared, not copied.
      const byPort = isShared(m.bytes.buffer) || m.kind !== 'user' || m.byteLength > RING_MAX_MESSAGE
      const bytes = byPort ? this.#portable(m.bytes) : m.bytes
      const wire: WireMessage = { to: box.to, from: m.from, kind: m.kind, bytes, ...(m.status ? { status: m.status } : {}), ...(m.cap !== 0 ? { cap: m.cap } : {}) }
      if (link.send(wire, box.id, byPort, byPort ? transferable(bytes) : []) === 'ring') this.counters.ring++
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
    this.#boxes.delete(box.id)
    if (box.native.status === undefined) box.native.exit()
  }
}

/** Answers a message of the peer's outbox `box` now, or once its receiver's mailbox took it. */
function answer(link: PeerLink, box: number, r: number | Promise<number>): void {
  if (typeof r === 'number') link.ack(box, r)
  else void r.then((v) => link.ack(box, v))
}

/** The list to transfer with `bytes`: its buffer unless shared (then every receiver maps the same memory). */
export function transferable(bytes: Uint8Array): ArrayBuffer[] {
  return isShared(bytes.buffer) ? [] : [bytes.buffer as ArrayBuffer]
}

export function isShared(b: ArrayBufferLike): boolean {
  return Object.prototype.toString.call(b) === '[object SharedArrayBuffer]'
}
