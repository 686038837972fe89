// copyPointer: what a forwarder copies between messages without knowing their schema —
// structs, lists and blobs word for word, capabilities through a translation function.
// Bounded like a reader: depth (Cap'n Proto's default nesting limit, 64) and words
// (its default traversal limit, 64 MiB), since pointers may share targets and a small
// message listing one large blob many times would otherwise expand without bound.

import { ListElementSize, Pointer, PointerType, type Client } from 'capnp-ts'
import {
  followFars, getCapabilityId, getContent, getTargetCompositeListSize, getTargetListElementSize,
  getTargetListLength, getTargetPointerType, getTargetStructSize, getListElementByteLength,
  initPointer, isNull, setInterfacePointer, setListPointer, setStructPointer,
} from 'capnp-ts/src/serialization/pointers/pointer.js'
import { getByteLength, getDataWordLength, padToWord } from 'capnp-ts/src/serialization/object-size.js'
import { LimitError, RpcProtocolError } from '../errors.js'

export const COPY_DEPTH_LIMIT = 64
export const COPY_WORD_LIMIT = 8 * 1024 * 1024

export interface CopyBudget { words: number }

/** What a capability becomes in the copy (null: a null pointer). */
export type CapTranslate = (c: Client | null) => Client | null

function spend(budget: CopyBudget, bytes: number): void {
  budget.words -= Math.ceil(bytes / 8)
  if (budget.words < 0) throw new LimitError(`forwarded message expands past ${COPY_WORD_LIMIT * 8} bytes`)
}

/**
 * Copies what `src` points to into `dst` (a pointer in another message), capabilities
 * included: each is looked up in the source's cap table, passed through `cap`, and added
 * to the destination's. What `dst` pointed to before is left behind, unreachable.
 * Throws LimitError past the depth or word budget.
 */
export function copyPointer(src: Pointer, dst: Pointer, cap: CapTranslate, budget: CopyBudget = { words: COPY_WORD_LIMIT }): void {
  if (isNull(src)) { dst.segment.setWordZero(dst.byteOffset); return }
  // capnp-ts starts a message's pointers with no depth limit (MAX_SAFE_INTEGER): a cycle
  // in a peer's message would recurse until the stack overflows.
  const depth = Math.min(src._capnp.depthLimit, COPY_DEPTH_LIMIT) - 1
  if (depth <= 0) throw new LimitError('forwarded message nests deeper than the traversal limit')
  switch (getTargetPointerType(src)) {
    case PointerType.STRUCT: {
      const size = getTargetStructSize(src)
      // An empty struct gets the canonical pointer (offset -1), not a 0-byte allocation:
      // with that, a forwarded call with no params was never answered.
      if (getByteLength(size) === 0) { setStructPointer(-1, size, dst); return }
      const from = getContent(src)
      spend(budget, getByteLength(size))
      const to = dst.segment.allocate(getByteLength(size))
      to.segment.copyWords(to.byteOffset, from.segment, from.byteOffset, getDataWordLength(size))
      for (let i = 0; i < size.pointerLength; i++) {
        const at = size.dataByteLength + i * 8
        copyPointer(new Pointer(from.segment, from.byteOffset + at, depth), new Pointer(to.segment, to.byteOffset + at, depth), cap, budget)
      }
      const res = initPointer(to.segment, to.byteOffset, dst)
      setStructPointer(res.offsetWords, size, res.pointer)
      return
    }
    case PointerType.LIST: return copyList(src, dst, depth, cap, budget)
    case PointerType.OTHER: {
      const id = getCapabilityId(followFars(src))
      const c = src.segment.message._capnp.capTable?.[id] ?? null
      const out = cap(c)
      if (out === null) { dst.segment.setWordZero(dst.byteOffset); return }
      setInterfacePointer(dst.segment.message.addCap(out), dst)
      return
    }
    default: throw new RpcProtocolError('forwarded message has a pointer of unknown type')
  }
}

function copyList(src: Pointer, dst: Pointer, depth: number, cap: CapTranslate, budget: CopyBudget): void {
  const from = getContent(src)
  const kind = getTargetListElementSize(src)
  const length = getTargetListLength(src)
  if (kind === ListElementSize.POINTER) {
    spend(budget, length * 8)
    const to = dst.segment.allocate(length * 8)
    for (let i = 0; i < length; i++) {
      copyPointer(new Pointer(from.segment, from.byteOffset + i * 8, depth), new Pointer(to.segment, to.byteOffset + i * 8, depth), cap, budget)
    }
    const res = initPointer(to.segment, to.byteOffset, dst)
    setListPointer(res.offsetWords, kind, length, res.pointer)
    return
  }
  if (kind === ListElementSize.COMPOSITE) {
    const size = padToWord(getTargetCompositeListSize(src))
    const stride = getByteLength(size)
    spend(budget, stride * length + 8)
    const to = dst.segment.allocate(stride * length + 8)
    to.segment.copyWord(to.byteOffset, from.segment, from.byteOffset - 8) // the tag word
    for (let i = 0; i < length; i++) {
      const a = from.byteOffset + i * stride
      const b = to.byteOffset + 8 + i * stride
      to.segment.copyWords(b, from.segment, a, getDataWordLength(size))
      for (let j = 0; j < size.pointerLength; j++) {
        const at = size.dataByteLength + j * 8
        copyPointer(new Pointer(from.segment, a + at, depth), new Pointer(to.segment, b + at, depth), cap, budget)
      }
    }
    const res = initPointer(to.segment, to.byteOffset, dst)
    setListPointer(res.offsetWords, kind, length, res.pointer, size)
    return
  }
  const bytes = kind === ListElementSize.BIT ? (length + 7) >>> 3 : getListElementByteLength(kind) * length
  const words = Math.ceil(bytes / 8)
  spend(budget, words * 8)
  const to = dst.segment.allocate(words * 8)
  to.segment.copyWords(to.byteOffset, from.segment, from.byteOffset, words)
  const res = initPointer(to.segment, to.byteOffset, dst)
  setListPointer(res.offsetWords, kind, length, res.pointer)
}
