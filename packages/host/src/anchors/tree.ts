import { CapDeniedError, InvalidArgumentError, ReleasedError } from '../errors.js'
import { Mailbox } from '../pubsub/mailbox.js'
import { joinPath, parsePath } from './path.js'
import type { Anchor, AnchorEvent, AnchorInput, AnchorValue, AnchorWatch, WatchOptions } from './types.js'

class AnchorNode {
  readonly children = new Map<string, AnchorNode>()
  readonly watchers = new Set<Mailbox<AnchorEvent>>()
  value: AnchorValue | undefined
  /** Bumped by every store and clear, so callers can compare-and-set (0: never held a value). */
  version = 0
  refs = 0
  constructor(readonly name: string, readonly parent: AnchorNode | undefined) {}

  /** Removes this node and empty ancestors that nothing holds (ref-counted cleanup). */
  prune(tree: AnchorTree): void {
    let n: AnchorNode = this
    while (n.parent && n.refs === 0 && n.value === undefined && n.children.size === 0 && n.watchers.size === 0) {
      n.parent.children.delete(n.name)
      tree.nodes--
      n = n.parent
    }
  }
}

/**
 * One host's anchor tree, in memory. Every handle and watch holds a reference on its
 * node; a node with no value, children, handles or watches is removed, so a tree of
 * walked-but-unused paths does not grow.
 */
export class AnchorTree {
  readonly #root = new AnchorNode('', undefined)
  /** Nodes besides the root (for tests and stats). */
  nodes = 0

  /** A writable handle on the root of this tree. */
  root(): Anchor {
    return this.#handle(this.#root, '', true)
  }

  #node(from: AnchorNode, names: string[]): AnchorNode {
    let n = from
    for (const name of names) {
      let c = n.children.get(name)
      if (!c) {
        c = new AnchorNode(name, n)
        n.children.set(name, c)
        this.nodes++
      }
      n = c
    }
    return n
  }

  #emit(node: AnchorNode, kind: 'set' | 'clear', value: AnchorValue | undefined): void {
    // Walk up, building each watcher's relative path as we go.
    let rel = ''
    for (let n: AnchorNode | undefined = node; n; n = n.parent) {
      if (n.watchers.size > 0) {
        const version = node.version
        const ev: AnchorEvent = value ? { path: rel, kind, value, version } : { path: rel, kind, version }
        for (const w of n.watchers) void w.offer(ev)?.catch(() => {})
      }
      if (n.parent) rel = joinPath(n.name, rel)
    }
  }

  #handle(node: AnchorNode, path: string, writable: boolean): Anchor {
    node.refs++
    let released = false
    const check = (): void => { if (released) throw new ReleasedError(`anchor ${JSON.stringify(path)}`) }
    const checkWrite = (): void => {
      check()
      if (!writable) throw new CapDeniedError(`write to read-only anchor ${JSON.stringify(path)}`)
    }
    const anchor: Anchor = {
      path,
      writable,
      ls: async () => { check(); return [...node.children.keys()].sort() },
      walk: (rel: string) => {
        check()
        const names = parsePath(rel)
        return this.#handle(this.#node(node, names), joinPath(path, names.join('/')), writable)
      },
      load: async () => { check(); return node.value },
      version: () => { check(); return node.version },
      store: async (input: AnchorInput) => {
        checkWrite()
        const value = toValue(input)
        const old = node.value
        node.value = value
        node.version++
        releaseCap(old, value)
        this.#emit(node, 'set', value)
      },
      clear: async () => {
        checkWrite()
        const old = node.value
        if (old === undefined) return
        node.value = undefined
        node.version++
        releaseCap(old, undefined)
        this.#emit(node, 'clear', undefined)
      },
      watch: (opts: WatchOptions = {}): AnchorWatch => {
        check()
        const box = new Mailbox<AnchorEvent>({ policy: 'dropOldest', capacity: 256, ...opts })
        if (opts.handler) box.handle(opts.handler)
        node.watchers.add(box)
        let closed = false
        const w: AnchorWatch = {
          ready: Promise.resolve(),
          stats: () => box.stats(),
          close: () => {
            if (closed) return
            closed = true
            box.close()
            node.watchers.delete(box)
            node.prune(this)
          },
          [Symbol.asyncIterator]: () => box[Symbol.asyncIterator](),
          [Symbol.dispose]: () => w.close(),
        }
        return w
      },
      readOnly: () => { check(); return this.#handle(node, path, false) },
      release: () => {
        if (released) return
        released = true
        node.refs--
        node.prune(this)
      },
      [Symbol.dispose]: () => anchor.release(),
    }
    return anchor
  }
}

function toValue(input: AnchorInput): AnchorValue {
  if (input instanceof Uint8Array) return { kind: 'bytes', bytes: input.slice() }
  if (input && typeof input === 'object' && typeof input.cap === 'object' && input.cap !== null) {
    return { kind: 'cap', cap: input.cap }
  }
  throw new InvalidArgumentError('anchor value must be a Uint8Array or { cap: object }')
}

/** A capability dropped from a node is released, so what it held is freed. */
function releaseCap(old: AnchorValue | undefined, next: AnchorValue | undefined): void {
  if (old?.kind !== 'cap' || (next?.kind === 'cap' && next.cap === old.cap)) return
  const r = (old.cap as { release?: unknown }).release
  if (typeof r === 'function') r.call(old.cap)
}
