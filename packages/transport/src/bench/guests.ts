// Test and benchmark guests: WAT sources in test/guests/, compiled with wabt at test/bench
// time, asyncify-instrumented with Binaryen where they must wait. The scriptable guest
// (script.wat) runs ops the Script below lays out, with RPC frames encoded here by
// capnp-ts and embedded as data segments.

import { readFileSync } from 'node:fs'
import { Message } from 'capnp-ts'
import type { Struct, StructCtor } from 'capnp-ts'
import { Message as RpcMessage } from 'capnp-ts/src/std/rpc.capnp.js'
import { initStructAt } from 'capnp-ts/src/serialization/pointers/struct.js'
import { frameSize, writeFrame } from '../frame.js'
import { asyncifyModule } from '../guest/asyncify-module.js'

const ASYNC_DATA = 1024
const ASYNC_END = ASYNC_DATA + 8 + 16 * 1024
const SCRIPT = ASYNC_END
const MAX_OPS = 250
const FRAMES = 32 * 1024
const PAGE = 65536

const watDir = new URL('../../test/guests/', import.meta.url)

type Wabt = Awaited<ReturnType<typeof import('wabt')>>
let wabt: Promise<Wabt> | undefined

/** Compile WAT text to wasm bytes with wabt. */
export async function wat2wasm(text: string, name = 'guest.wat'): Promise<Uint8Array> {
  const w = await (wabt ??= import('wabt').then((m) => (m.default as unknown as () => Promise<Wabt>)()))
  const mod = w.parseWat(name, text, { bulk_memory: true, sign_extension: true, mutable_globals: true })
  try {
    return mod.toBinary({}).buffer
  } finally {
    mod.destroy()
  }
}

/** A WAT file of test/guests/ as text. */
export function watSource(file: string): string {
  return readFileSync(new URL(file, watDir), 'utf8')
}

export interface FrameRef { ptr: number; len: number }

/** An RPC message framed (single segment) as a guest would write it. */
export function frameOf(build: (root: RpcMessage) => void): Uint8Array {
  const m = new Message()
  build(m.initRoot(RpcMessage))
  const out = new Uint8Array(frameSize(m))
  writeFrame(m, out)
  return out
}

export const frames = {
  bootstrap(qid: number): Uint8Array {
    return frameOf((r) => r.initBootstrap().setQuestionId(qid))
  },
  /** A Call of method (interfaceId, methodId) on the answer of question `onQuestion` (transform: pointer fields). */
  call<P extends Struct>(qid: number, target: { question: number; transform?: number[] } | { cap: number },
    method: { interfaceId: bigint; methodId: number; ParamsClass: StructCtor<P> }, params?: (p: P) => void): Uint8Array {
    return frameOf((r) => {
      const c = r.initCall()
      c.setQuestionId(qid)
      c.setInterfaceId(method.interfaceId)
      c.setMethodId(method.methodId)
      const t = c.initTarget()
      if ('cap' in target) t.setImportedCap(target.cap)
      else {
        const pa = t.initPromisedAnswer()
        pa.setQuestionId(target.question)
        const tr = target.transform ?? []
        if (tr.length > 0) {
          const ops = pa.initTransform(tr.length)
          tr.forEach((f, i) => ops.get(i).setGetPointerField(f))
        }
      }
      const p = initStructAt(0, method.ParamsClass, c.initParams())
      params?.(p)
    })
  },
  finish(qid: number): Uint8Array {
    return frameOf((r) => { const f = r.initFinish(); f.setQuestionId(qid); f.setReleaseResultCaps(false) })
  },
}

/** Builds the op list and data of a script.wat guest. */
export class Script {
  readonly #data: { addr: number; bytes: Uint8Array }[] = []
  readonly #ops: number[][] = []
  #next = FRAMES
  /** Bytes of log space (received frames); default 256 KiB. */
  logBytes = 256 * 1024

  /** Place `bytes` (8-aligned) in the frames area. */
  place(bytes: Uint8Array): FrameRef {
    const ptr = this.#next
    this.#data.push({ addr: ptr, bytes })
    this.#next = (ptr + bytes.byteLength + 7) & ~7
    return { ptr, len: bytes.byteLength }
  }

  /** Address the next op will have (a loop target). */
  get here(): number { return SCRIPT + 8 + 16 * this.#ops.length }

  send(f: Uint8Array | FrameRef): this { const r = f instanceof Uint8Array ? this.place(f) : f; return this.#op(1, r.ptr, r.len) }
  /** ww.send with any (hostile) pointer and length. */
  sendRaw(ptr: number, len: number): this { return this.#op(1, ptr | 0, len | 0) }
  recv(cap = 0): this { return this.#op(2, cap) }
  poll(cap = 0): this { return this.#op(3, cap) }
  grow(pages: number): this { return this.#op(4, pages) }
  /** Run the ops from `target` to here `times` times in all. */
  loop(times: number, target: number): this { return this.#op(5, times, target) }
  setCursor(addr: number): this { return this.#op(6, addr) }
  trap(): this { return this.#op(7) }

  /** The first address past frames (where the log starts). */
  get logBase(): number { return this.#next }

  /** Wasm bytes of script.wat with this script; asyncify-instrumented when `asyncify`. */
  async build(opts: { asyncify?: boolean; extraPages?: number } = {}): Promise<Uint8Array> {
    if (this.#ops.length >= MAX_OPS) throw new Error(`script has ${this.#ops.length} ops, at most ${MAX_OPS - 1}`)
    const logBase = this.#next
    const logEnd = logBase + this.logBytes
    const pages = Math.ceil(logEnd / PAGE) + (opts.extraPages ?? 0)
    const words = [logBase, logEnd, ...this.#ops.flat(), 0, 0, 0, 0]
    const script = new Uint8Array(new Uint32Array(words).buffer)
    const data = [{ addr: SCRIPT, bytes: script }, ...this.#data]
      .map((d) => `(data (i32.const ${d.addr}) "${escape(d.bytes)}")`).join('\n  ')
    const text = watSource('script.wat')
      .replaceAll('{{pages}}', String(pages))
      .replaceAll('{{asyncEnd}}', escape(new Uint8Array(new Uint32Array([ASYNC_END]).buffer)))
      .replaceAll('{{script}}', String(SCRIPT))
      .replaceAll('{{firstOp}}', String(SCRIPT + 8))
      .replace('{{data}}', data)
    const wasm = await wat2wasm(text, 'script.wat')
    return opts.asyncify ? asyncifyModule(wasm, { imports: ['ww.recv'] }) : wasm
  }

  #op(code: number, a = 0, b = 0): this {
    this.#ops.push([code, a, b, 0])
    return this
  }
}

/** Frames the script guest logged: [len, 0, bytes] records from `base` up to its cursor. */
export function loggedFrames(memory: ArrayBuffer, base: number, cursor: number): Uint8Array[] {
  const out: Uint8Array[] = []
  const dv = new DataView(memory)
  for (let p = base; p < cursor;) {
    const len = dv.getUint32(p, true)
    out.push(new Uint8Array(memory.slice(p + 8, p + 8 + len)))
    p = (p + len + 15) & ~7
  }
  return out
}

function escape(bytes: Uint8Array): string {
  let s = ''
  for (let i = 0; i < bytes.byteLength; i++) s += '\\' + HEX[bytes[i]!]
  return s
}
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))
