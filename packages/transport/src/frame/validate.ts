// The frame validator: walks every pointer reachable from the root and proves that each
// target lies inside its own segment, before capnp-ts (which, for an in-place frame,
// bounds-checks only against the whole ArrayBuffer) reads anything. Counts traversed words
// (amplification) and nesting depth like capnp C++'s ReaderOptions. Data and primitive
// lists cost O(1): only their extent is checked, never their bytes.

import { FrameError, LimitError } from '../errors.js'
import type { FrameLimits } from '../limits.js'

/** Segment bounds as absolute byte positions in the validated buffer. */
export interface SegmentBounds {
  readonly starts: number[]
  readonly ends: number[]
}

/** What the walk learnt about the frame. */
export interface WalkResult {
  /** Some pointer is far: its offsets are segment-relative, so in-place decoding needs a copy. */
  hasFar: boolean
  /** Words traversed. */
  words: number
}

const ELEMENT_BITS = [0, 1, 8, 16, 32, 64, 64, 0] as const

class Walker {
  words = 0
  hasFar = false
  /** Path from the root to the pointer being checked (field i as i, list element i as -1-i); text only on error. */
  private readonly path: number[] = []
  constructor(
    public dv: DataView,
    public seg: SegmentBounds,
    public limits: FrameLimits,
  ) {}

  reset(dv: DataView, seg: SegmentBounds, limits: FrameLimits): void {
    this.dv = dv
    this.seg = seg
    this.limits = limits
    this.words = 0
    this.hasFar = false
    if (this.path.length !== 0) this.path.length = 0
  }

  where(): string {
    let out = 'root'
    for (const p of this.path) out += p < 0 ? `[${-1 - p}]` : `.p${p}`
    return out
  }

  private count(words: number): void {
    this.words += words
    if (this.words > this.limits.traversalLimitWords) {
      throw new LimitError(`traversal limit of ${this.limits.traversalLimitWords} words exceeded at ${this.where()} (pointer cycle or amplification)`)
    }
  }

  /** Validate the pointer at absolute byte `pos` in segment `s`. */
  pointer(pos: number, s: number, depth: number): void {
    const dv = this.dv
    let lo = dv.getUint32(pos, true)
    let hi = dv.getUint32(pos + 4, true)
    if (lo === 0 && hi === 0) return
    if (depth > this.limits.nestingLimit) {
      throw new LimitError(`nesting limit of ${this.limits.nestingLimit} exceeded at ${this.where()}`)
    }
    let kind = lo & 3
    let content: number
    let cs = s
    if (kind === 2) {
      this.hasFar = true
      const padSeg = hi
      if (padSeg >= this.seg.starts.length) throw new FrameError(`${this.where()}: far pointer to segment ${padSeg}, frame has ${this.seg.starts.length}`)
      const doubleFar = (lo & 4) !== 0
      const pad = this.seg.starts[padSeg]! + (lo >>> 3) * 8
      const padEnd = pad + (doubleFar ? 16 : 8)
      if (padEnd > this.seg.ends[padSeg]!) throw new FrameError(`${this.where()}: far pointer landing pad at word ${lo >>> 3} lies outside segment ${padSeg}`)
      const plo = dv.getUint32(pad, true)
      const phi = dv.getUint32(pad + 4, true)
      if (!doubleFar) {
        if ((plo & 3) === 2) throw new FrameError(`${this.where()}: far pointer landing pad is itself a far pointer`)
        if ((plo & 3) === 3) throw new FrameError(`${this.where()}: far pointer landing pad is not a struct or list pointer`)
        lo = plo
        hi = phi
        kind = lo & 3
        cs = padSeg
        content = pad + 8 + (lo >> 2) * 8
        if (lo === 0 && hi === 0) throw new FrameError(`${this.where()}: far pointer landing pad is null`)
      } else {
        if ((plo & 7) !== 2) throw new FrameError(`${this.where()}: double-far landing pad does not start with a single far pointer`)
        if (phi >= this.seg.starts.length) throw new FrameError(`${this.where()}: double-far landing pad names segment ${phi}, frame has ${this.seg.starts.length}`)
        lo = dv.getUint32(pad + 8, true)
        hi = dv.getUint32(pad + 12, true)
        kind = lo & 3
        if (kind > 1) throw new FrameError(`${this.where()}: double-far tag is not a struct or list pointer`)
        cs = phi
        content = this.seg.starts[phi]! + (plo >>> 3) * 8
      }
    } else {
      content = pos + 8 + (lo >> 2) * 8
    }
    if (kind === 0) this.struct(content, cs, hi, depth)
    else if (kind === 1) this.list(content, cs, hi, depth)
    // A capability pointer's index is checked against the cap table when it is read.
    else if (lo === 3) return
    else throw new FrameError(`${this.where()}: reserved pointer kind (word 0x${lo.toString(16).padStart(8, '0')})`)
  }

  private inSegment(start: number, bytes: number, s: number, what: string): void {
    if (start < this.seg.starts[s]! || start + bytes > this.seg.ends[s]!) {
      throw new FrameError(`${this.where()}: ${what} of ${bytes} bytes at segment offset ${start - this.seg.starts[s]!} lies outside segment ${s} (${this.seg.ends[s]! - this.seg.starts[s]!} bytes)`)
    }
  }

  private struct(content: number, s: number, hi: number, depth: number): void {
    const dataWords = hi & 0xffff
    const ptrs = hi >>> 16
    const words = dataWords + ptrs
    this.inSegment(content, words * 8, s, 'struct')
    // Zero-sized objects still cost a word, so a cycle of them cannot loop for free.
    this.count(words === 0 ? 1 : words)
    const p0 = content + dataWords * 8
    const path = this.path
    for (let i = 0; i < ptrs; i++) {
      path.push(i)
      this.pointer(p0 + i * 8, s, depth + 1)
      path.pop()
    }
  }

  private list(content: number, s: number, hi: number, depth: number): void {
    const size = hi & 7
    const n = hi >>> 3
    if (size === 7) {
      this.inSegment(content, 8 + n * 8, s, 'composite list')
      const tlo = this.dv.getUint32(content, true)
      const thi = this.dv.getUint32(content + 4, true)
      if ((tlo & 3) !== 0) throw new FrameError(`${this.where()}: composite list tag is not a struct tag`)
      const elements = tlo >>> 2
      const dataWords = thi & 0xffff
      const ptrs = thi >>> 16
      const per = dataWords + ptrs
      if (per * elements > n) {
        throw new FrameError(`${this.where()}: composite list tag claims ${elements} elements of ${per} words, list has ${n} words`)
      }
      this.count(per === 0 ? elements + 1 : n)
      if (ptrs === 0) return
      let e = content + 8
      for (let i = 0; i < elements; i++, e += per * 8) {
        const p0 = e + dataWords * 8
        for (let j = 0; j < ptrs; j++) {
          this.path.push(-1 - i, j)
          this.pointer(p0 + j * 8, s, depth + 1)
          this.path.length -= 2
        }
      }
      return
    }
    const bytes = Math.ceil((n * ELEMENT_BITS[size]!) / 64) * 8
    this.inSegment(content, bytes, s, 'list')
    // Void lists occupy nothing but cost one word per element, as in capnp C++.
    this.count(size === 0 ? n : bytes / 8)
    if (size === 6) {
      for (let i = 0; i < n; i++) {
        this.path.push(-1 - i)
        this.pointer(content + i * 8, s, depth + 1)
        this.path.pop()
      }
    }
  }
}

/** Walk the frame from the root pointer at the start of segment 0. Throws FrameError / LimitError. */
export function walkFrame(dv: DataView, seg: SegmentBounds, limits: FrameLimits): WalkResult {
  const w = new Walker(dv, seg, limits)
  w.pointer(seg.starts[0]!, 0, 0)
  return { hasFar: w.hasFar, words: w.words }
}

// Single-segment frames (the guest's common case) reuse one walker and one bounds pair:
// the walk is synchronous and calls out to nothing, so it cannot be re-entered.
const ONE: { starts: number[]; ends: number[] } = { starts: [0], ends: [0] }
const EMPTY_VIEW = new DataView(new ArrayBuffer(8))
const SHARED = new Walker(EMPTY_VIEW, ONE, { maxFrameBytes: 1, maxSegments: 1, traversalLimitWords: 1, nestingLimit: 1 })
let sharedBusy = false

/** walkFrame for a frame of one segment at [start, end); returns whether it has a far pointer. */
export function walkSingleSegment(dv: DataView, start: number, end: number, limits: FrameLimits): boolean {
  if (sharedBusy) return walkFrame(dv, { starts: [start], ends: [end] }, limits).hasFar
  sharedBusy = true
  const w = SHARED
  try {
    ONE.starts[0] = start
    ONE.ends[0] = end
    w.reset(dv, ONE, limits)
    w.pointer(start, 0, 0)
    return w.hasFar
  } finally {
    // Drop the reference to the caller's memory.
    w.dv = EMPTY_VIEW
    sharedBusy = false
  }
}
