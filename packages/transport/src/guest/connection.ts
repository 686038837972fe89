// GuestConnection: an RpcConnection whose peer is a wasm guest speaking the ww ABI
// (ABI.md) through its own linear memory. It is the connection's MessageSink: outgoing
// messages wait in a FIFO until the guest asks for them with ww.recv / ww.poll, and are
// then written straight into the guest's buffer.
//
// memory.grow: we hold the WebAssembly.Memory object, never its buffer. Every import
// derives its view from `memory.buffer` on entry, and drops it on return, so a grown
// (replaced) buffer is never read stale. Borrowed messages are expired by the RPC
// connection when receive() returns, so no host object keeps a view past the call.
//
// A wait in ww.recv ends when a frame arrives, but the frame is written into guest memory
// only when the guest resumes (a Resume, see Suspender): between the two a scheduler may
// hibernate the guest, detach() it here, and attach() the instance it restored into.

import type { Client, Message, Server } from 'capnp-ts'
import { RpcConnection, type MessageSink } from '../rpc/connection.js'
import { DEFAULT_LIMITS, type FrameLimits } from '../limits.js'
import { TransportError } from '../errors.js'
import { GuestAbiError, GuestMemoryError, asGuestError } from './errors.js'
import { createSuspender, type Resume, type Suspender, type SuspendingImport, type SuspensionMode } from './suspend.js'
import { zeroCopyIO, type FrameIO } from './frame-io.js'
import { copyingIO } from './copying.js'
import { GuestStats } from './stats.js'

export interface GuestConnectionOptions {
  /** The capability the guest's Bootstrap receives. */
  bootstrap?: Server | Client
  /** Carried by every error this guest ends with. */
  processId?: string | number
  limits?: FrameLimits
  /** A mode, or a Suspender shared with other imports. Default 'auto'. */
  suspension?: SuspensionMode | Suspender
  /** 'zero-copy' (default) or 'copying' (the baseline: a host copy each way). */
  transport?: 'zero-copy' | 'copying'
  /** Called once when the guest's connection ends (reason: why, if it was killed). */
  onClose?: (reason?: TransportError) => void
}

/** The `ww` import namespace. */
export type WwImports = {
  send: (ptr: number, len: number) => number
  recv: (ptr: number, cap: number) => number
  poll: (ptr: number, cap: number) => number
}

export class GuestConnection implements MessageSink {
  readonly rpc: RpcConnection
  readonly stats = new GuestStats()
  readonly suspender: Suspender
  readonly processId: string | number | undefined
  readonly #limits: FrameLimits
  readonly #io: FrameIO
  readonly #onClose: ((reason?: TransportError) => void) | undefined
  #memory: WebAssembly.Memory | undefined
  // The memory's buffer as last read: growing the memory detaches it (byteLength 0), and
  // the getter (a call into the engine, several per guest call) runs again only then.
  #buffer: ArrayBuffer | undefined
  #instance: WebAssembly.Instance | undefined
  // Outgoing FIFO: [head, tail) of an array kept at its largest size (shift() is O(n) on
  // long pipelines; `length = 0` after each frame would free the backing store, and the
  // next push allocate it again).
  #queue: (Message | undefined)[] = []
  #head = 0
  #tail = 0
  #ended = false
  #dead: TransportError | undefined
  #waiter: { wake: () => void; fail: (e: Error) => void } | undefined
  #ww: WwImports | undefined
  #notified = false

  constructor(opts: GuestConnectionOptions = {}) {
    this.processId = opts.processId
    this.#limits = opts.limits ?? DEFAULT_LIMITS
    this.#io = opts.transport === 'copying' ? copyingIO : zeroCopyIO
    this.#onClose = opts.onClose
    const s = opts.suspension
    this.suspender = typeof s === 'object' ? s : createSuspender(s)
    const rpcOpts = { name: `guest ${opts.processId ?? '?'}`, ...(opts.bootstrap === undefined ? {} : { bootstrap: opts.bootstrap }) }
    this.rpc = new RpcConnection(this, rpcOpts)
  }

  /** The attached instance (its exports), if any. */
  get instance(): WebAssembly.Instance | undefined { return this.#instance }

  /** Why the guest was ended, if it was. */
  get reason(): TransportError | undefined { return this.#dead }

  /** The `ww` import namespace for WebAssembly.instantiate (recv wrapped by the suspender). */
  imports(): { ww: WwImports } {
    this.#ww ??= {
      send: (ptr, len) => this.#send(ptr, len),
      recv: this.suspender.wrapImport((ptr, cap) => this.#recv(ptr, cap)),
      poll: (ptr, cap) => this.#poll(ptr, cap),
    }
    return { ww: this.#ww }
  }

  /**
   * Wrap an import of another namespace (WASI) that may have to wait: `fn` returns a
   * number, or a promise of one; the guest suspends until it settles. A rejection ends
   * the guest with that error. Under asyncify, list the import in asyncifyModule's imports.
   */
  suspending(fn: SuspendingImport): (...args: number[]) => number {
    return this.suspender.wrapImport(fn)
  }

  /** Bind the instantiated guest. Throws GuestAbiError if it exports no memory. */
  attach(instance: WebAssembly.Instance): void {
    const mem = instance.exports.memory
    if (!(mem instanceof WebAssembly.Memory) && !isMemoryLike(mem)) throw this.#tag(new GuestAbiError('the guest exports no memory'))
    this.#memory = mem as WebAssembly.Memory
    this.#buffer = undefined
    this.#instance = instance
    this.suspender.attach(instance)
  }

  /**
   * Let go of the instance and its memory: it is being dropped while the guest waits (a
   * scheduler hibernates it). attach() the instance it moves to before the guest resumes;
   * an import called in between ends the guest (GuestAbiError).
   */
  detach(): void {
    this.#memory = undefined
    this.#buffer = undefined
    this.#instance = undefined
  }

  /**
   * Whether the guest may move to a new instance now (detach, then attach): this holds no
   * view of guest memory between import calls (borrowed frames expire when ww.send
   * returns; a frame for a waiting recv is written when it resumes), so only an ended
   * guest says no.
   */
  get movable(): boolean {
    return this.#dead === undefined && this.#memory !== undefined
  }

  /** The guest memory's current buffer (valid until the guest runs or grows it again). */
  buffer(): ArrayBuffer {
    if (this.#memory === undefined) throw this.#tag(new GuestAbiError('no guest attached'))
    return this.#memory.buffer
  }

  /**
   * Run the guest's entry export (`ww_main`, else `_start`, or `entry`) to completion,
   * through every suspension. Resolves with its return value; rejects with the typed
   * reason the guest ended with. The RPC connection is closed either way.
   */
  async run(entry?: string, args: number[] = []): Promise<number | undefined> {
    const inst = this.#instance
    if (inst === undefined) throw this.#tag(new GuestAbiError('run() before attach()'))
    const name = entry ?? (typeof inst.exports.ww_main === 'function' ? 'ww_main' : '_start')
    const fn = inst.exports[name]
    if (typeof fn !== 'function') throw this.kill(new GuestAbiError(`the guest exports no ${entry ?? 'ww_main or _start'} function`))
    try {
      const r = await this.suspender.run(fn as (...a: number[]) => unknown, args)
      // A guest that caught our trap (wasm exception handling) still ended.
      if (this.#dead !== undefined) throw this.#dead
      this.#finish()
      return typeof r === 'number' ? r : undefined
    } catch (e) {
      throw this.kill(e)
    }
  }

  /**
   * End the guest with `reason` (typed, tagged with the process id): a waiting recv
   * rejects, later imports throw, the RPC connection closes with the reason. Returns the
   * typed reason; the first reason wins.
   */
  kill(reason: unknown): TransportError {
    if (this.#dead !== undefined) return this.#dead
    const err = asGuestError(reason, this.processId)
    this.#dead = err
    this.#queue = []
    this.#head = this.#tail = 0
    const w = this.#waiter
    this.#waiter = undefined
    w?.fail(err)
    this.rpc.close(err)
    this.#notify(err)
    return err
  }

  // ---- MessageSink (the RPC connection's side) ---------------------------------------

  send(message: Message): void {
    if (this.#dead !== undefined || this.#ended) return
    this.#queue[this.#tail++] = message
    this.#wake()
  }

  close(): void {
    // No frame will come after the queued ones: a waiting recv returns 0 once they are read.
    this.#ended = true
    this.#wake()
  }

  // ---- ww imports (the guest's side) -------------------------------------------------

  #send(ptr: number, len: number): number {
    const mem = this.#enter()
    const p = ptr >>> 0
    const n = len >>> 0
    if (p + n > mem.byteLength) throw this.kill(new GuestMemoryError(`ww.send range [${p}, +${n}) is outside memory of ${mem.byteLength} bytes`))
    let inc
    try {
      inc = this.#io.read(mem, p, n, this.#limits)
    } catch (e) {
      throw this.kill(e)
    }
    const s = this.stats
    s.framesIn++
    s.bytesIn += n
    s.copiedFrames += inc.copied
    try {
      this.rpc.receive(inc.message, inc.borrowed)
    } catch (e) {
      throw this.kill(e)
    }
    return 0
  }

  #recv(ptr: number, cap: number): number | Promise<Resume> {
    const n = this.#poll(ptr, cap)
    if (n !== 0 || this.#ended) return n
    // Woken by a frame (or the end), written when the guest runs: in the memory of then.
    return this.#wait().then(() => () => this.#resumed(ptr, cap))
  }

  #resumed(ptr: number, cap: number): number {
    const n = this.#poll(ptr, cap)
    // Only the guest takes frames, and it was waiting: a wake always leaves one, or the end.
    if (n === 0 && !this.#ended) throw this.kill(new GuestAbiError('ww.recv resumed with no frame to deliver'))
    return n
  }

  #poll(ptr: number, cap: number): number {
    const mem = this.#enter()
    const p = ptr >>> 0
    const c = cap >>> 0
    // Checked even when nothing is queued: a bad buffer fails now, not at some later delivery.
    if (p + c > mem.byteLength) throw this.kill(new GuestMemoryError(`ww.recv buffer [${p}, +${c}) is outside memory of ${mem.byteLength} bytes`))
    if (this.#head === this.#tail) return 0
    const m = this.#queue[this.#head]!
    const w = this.#io.write(m, mem, p, c)
    const s = this.stats
    s.copiedFrames += w.copied
    if (w.n < 0) return w.n // too small: the frame stays queued
    this.#queue[this.#head++] = undefined
    if (this.#head === this.#tail) this.#head = this.#tail = 0
    s.framesOut++
    s.bytesOut += w.n
    return w.n
  }

  #wait(): Promise<void> {
    this.stats.waits++
    return new Promise((resolve, reject) => {
      this.#waiter = { wake: resolve, fail: reject }
    })
  }

  #wake(): void {
    const w = this.#waiter
    if (w === undefined) return
    this.#waiter = undefined
    w.wake()
  }

  /** Every import starts here: a dead guest gets its reason thrown again; the memory's current buffer. */
  #enter(): ArrayBuffer {
    if (this.#dead !== undefined) throw this.#dead
    if (this.#memory === undefined) throw this.kill(new GuestAbiError('an import was called before attach()'))
    let buf = this.#buffer
    if (buf === undefined || buf.byteLength === 0) buf = this.#buffer = this.#memory.buffer
    return buf
  }

  #finish(): void {
    this.#ended = true
    this.rpc.close()
    this.#notify(undefined)
  }

  #notify(reason: TransportError | undefined): void {
    if (this.#notified) return
    this.#notified = true
    this.#onClose?.(reason)
  }

  #tag<E extends TransportError>(e: E): E {
    if (e.processId === undefined && this.processId !== undefined) e.processId = this.processId
    return e
  }
}

function isMemoryLike(m: unknown): boolean {
  // Jest's vm context has its own WebAssembly namespace; a memory from there fails instanceof.
  return typeof m === 'object' && m !== null && typeof (m as WebAssembly.Memory).grow === 'function' && (m as WebAssembly.Memory).buffer instanceof ArrayBuffer
}
