// A capability that forwards every call to another one. The transport forwards nothing
// itself (a capability it does not host goes out as null), so this is how a service one
// connection provided reaches finders on other connections, and how a finder on one host
// calls a provider on another through the host-to-host link.
//
// Generic over the interfaces of @ww/schema: params and results are copied as raw
// structs, and a capability inside them that this host does not serve is wrapped in a
// forwarder of its own (with the same checks). A server's method table is fixed before its
// first call, so interfaces outside @ww/schema are answered `unimplemented`.

import * as schema from '@ww/schema'
import {
  Client, ListElementSize, Message, Pointer, PointerType, RemotePromise, Server,
  type Method, type ServerMethod, type Struct,
} from 'capnp-ts'
import {
  followFars, getCapabilityId, getContent, getTargetCompositeListSize, getTargetListElementSize,
  getTargetListLength, getTargetPointerType, getTargetStructSize, getListElementByteLength,
  initPointer, isNull, setInterfacePointer, setListPointer, setStructPointer,
} from 'capnp-ts/src/serialization/pointers/pointer.js'
import { getByteLength, getDataWordLength, padToWord } from 'capnp-ts/src/serialization/object-size.js'
import { onReleased, RemoteError, retainClient } from '@ww/transport'
import { isHostError } from '../errors.js'
import { rpcError, toRpcError } from './errors.js'

export interface ForwardOptions {
  /** Throws the typed error calls fail with now (ERR_REVOKED); run as each call arrives and ends. */
  check?: () => void
  /** Bounds one forwarded call (a PeerLink's deadline and closing). */
  bound?: <T>(what: string, call: () => PromiseLike<T>) => Promise<T>
  /** The error a caller sees for a failure that is not already typed (a closed connection). */
  mapError?: (e: unknown) => unknown
  /** Runs once, when no peer holds the forwarder any more. */
  released?: () => void
}

type AnyMethod = Method<Struct, Struct>

const COPY_DEPTH_LIMIT = 64
/**
 * Words one copy may write: Cap'n Proto's default traversal limit (64 MiB). Pointers may
 * share their targets, so without it a small message listing one large blob many times
 * would be copied into an arbitrarily large one.
 */
const COPY_WORD_LIMIT = 8 * 1024 * 1024

interface Budget { words: number }

function spend(budget: Budget, bytes: number): void {
  budget.words -= Math.ceil(bytes / 8)
  if (budget.words < 0) throw rpcError('ERR_LIMIT', `forwarded message expands past ${COPY_WORD_LIMIT * 8} bytes`)
}

/** Every method of every interface in @ww/schema, once. */
const METHODS: readonly AnyMethod[] = (() => {
  const out = new Map<string, AnyMethod>()
  for (const ns of Object.values(schema) as Array<Record<string, unknown>>) {
    for (const v of Object.values(ns)) {
      const methods = (v as { methods?: Record<string, AnyMethod> } | undefined)?.methods
      if (typeof v !== 'function' || typeof methods !== 'object') continue
      for (const m of Object.values(methods)) out.set(`${m.interfaceId}/${m.methodId}`, m)
    }
  }
  return [...out.values()]
})()

/** RemotePromise with its pipelining primitive public, for an untyped capability field. */
class Pipelined<R extends Struct> extends RemotePromise<R> {
  cap(index: number): Client { return this.pipelineClient(index) }
}

/** Calls `method` on `client` with `params` copied in, pipelined (the Call is sent before this returns). */
export function callRaw(client: Client, method: AnyMethod, fill: (params: Struct) => void): Pipelined<Struct> {
  return client.call(method, fill, Pipelined) as Pipelined<Struct>
}

/**
 * A server forwarding every call to `target` (a client, or a function giving one — at once
 * or once a link is up — asked on the first call).
 */
export function forwardingServer(target: Client | (() => Client | Promise<Client>), opts: ForwardOptions = {}): Server {
  return forwarder(target, opts, new Map())
}

/**
 * `wrappers`: the forwarders made so far for capabilities that crossed this one, by the
 * client they forward to — one each, so a capability that crosses many times is forwarded
 * (and, once no peer holds the forwarder, disposed) once.
 */
function forwarder(target: Client | (() => Client | Promise<Client>), opts: ForwardOptions, wrappers: Map<Client, Client>): Server {
  let resolved: Client | Promise<Client> | undefined = target instanceof Client ? target : undefined
  let root = target instanceof Client ? target : undefined
  const get = (): Client | Promise<Client> => (resolved ??= (target as () => Client | Promise<Client>)())
  // `own`: a capability from a call's params is the call's (the transport disposes it when
  // the call settles), so its forwarder keeps a handle of its own; one from results is ours.
  const wrap = (c: Client | null, own: boolean): Client | null => {
    if (c === null || c._target.tag === 'local') return c
    let w = wrappers.get(c)
    if (w === undefined) {
      const t = own ? retainClient(c) : c
      const released = (): void => {
        wrappers.delete(c)
        if (t !== root) t.dispose() // never the target itself, which its owner releases
      }
      w = new Client({ tag: 'local', server: forwarder(t, { ...opts, released }, wrappers) })
      wrappers.set(c, w)
    }
    return w
  }
  const wrapParam = (c: Client | null): Client | null => wrap(c, true)
  const wrapResult = (c: Client | null): Client | null => wrap(c, false)
  // Typed failures (the target's own exceptions, a host's codes) pass through as they are.
  const fail = (e: unknown): unknown => toRpcError(e instanceof RemoteError || isHostError(e) ? e : (opts.mapError?.(e) ?? e))

  async function forward(method: AnyMethod, client: Client, params: Struct, results: Struct): Promise<void> {
    root = client
    const rp = callRaw(client, method, (q) => copyPointer(params, q, wrapParam))
    let got: Struct
    try {
      got = opts.bound ? await opts.bound(`${method.interfaceName}.${method.methodName}`, () => rp) : await rp
    } catch (e) {
      throw fail(e)
    }
    opts.check?.()
    copyPointer(got, results, wrapResult)
  }

  const impl = (m: AnyMethod) => (p: Struct, r: Struct): Promise<void> => {
    opts.check?.()
    const t = get()
    // Sent now, the params are copied straight from the caller's frame. A client on one of
    // our own pending answers sends later, after the frame expired: so does a target not
    // known yet. Those keep a copy.
    if (!(t instanceof Promise) && t._target.tag !== 'answer') return forward(m, t, p, r)
    const held = new Message().initRoot(m.ParamsClass)
    copyPointer(p, held, (c) => c)
    return Promise.resolve(t).then((c) => forward(m, c, held, r), (e: unknown) => { throw fail(e) })
  }
  // The method table (~100 entries) is built on the first call: most forwarders a find
  // hands out are never called (~80 us each when built eagerly, measured).
  const server = new Server([])
  let table: ServerMethod[] | undefined
  Object.defineProperty(server, 'methods', { get: () => (table ??= METHODS.map((m) => ({ ...m, impl: impl(m) }))) })
  if (opts.released) onReleased(server, opts.released)
  return server
}

/**
 * Copies what `src` points to into `dst` (another message), capabilities included: each
 * is looked up in the source's cap table, passed through `cap`, and added to the
 * destination's. What `dst` pointed to before is left behind, unreachable.
 */
export function copyPointer(src: Pointer, dst: Pointer, cap: (c: Client | null) => Client | null, budget: Budget = { words: COPY_WORD_LIMIT }): void {
  if (isNull(src)) { dst.segment.setWordZero(dst.byteOffset); return }
  // capnp-ts starts a message's pointers with no depth limit (MAX_SAFE_INTEGER): a cycle
  // in a peer's message would recurse until the stack overflows. Cap'n Proto's own
  // default nesting limit is 64.
  const depth = Math.min(src._capnp.depthLimit, COPY_DEPTH_LIMIT) - 1
  if (depth <= 0) throw rpcError('ERR_LIMIT', 'forwarded message nests deeper than the traversal limit')
  switch (getTargetPointerType(src)) {
    case PointerType.STRUCT: {
      const from = getContent(src)
      const size = getTargetStructSize(src)
      // An empty struct gets the canonical pointer (offset -1), not a 0-byte allocation:
      // with that, a forwarded call with no params (Anchor.path, get) was never answered.
      if (getByteLength(size) === 0) { setStructPointer(-1, size, dst); return }
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
    default: throw rpcError('ERR_INVALID_ARGUMENT', 'forwarded message has a pointer of unknown type')
  }
}

function copyList(src: Pointer, dst: Pointer, depth: number, cap: (c: Client | null) => Client | null, budget: Budget): void {
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
