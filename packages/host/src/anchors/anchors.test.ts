import { AnchorTree } from './tree.js'
import { parsePath } from './path.js'
import type { AnchorEvent } from './types.js'

const b = (s: string): Uint8Array => new TextEncoder().encode(s)
const s = (u: Uint8Array | undefined): string => new TextDecoder().decode(u)

describe('anchors', () => {
  test('paths: relative only, validated names, no way up', () => {
    expect(parsePath('')).toEqual([])
    expect(parsePath('a/b-c/d_e.f')).toEqual(['a', 'b-c', 'd_e.f'])
    for (const bad of ['/a', 'a//b', 'a/', '..', 'a/../b', '.', 'a/./b', 'a b', 'é']) {
      expect(() => parsePath(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_PATH' }))
    }
    expect(() => parsePath(Array(65).fill('x').join('/'))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_PATH' }))
  })

  test('store, load, ls; stored bytes are a copy (custody)', async () => {
    const tree = new AnchorTree()
    const root = tree.root()
    const buf = b('v1')
    await root.walk('a/b').store(buf)
    buf[0] = 0 // the caller reusing its buffer does not change the anchor
    const v = await root.walk('a/b').load()
    expect(v?.kind).toBe('bytes')
    expect(s(v?.kind === 'bytes' ? v.bytes : undefined)).toBe('v1')
    await root.walk('a/c').store(b('x'))
    expect(await root.ls()).toEqual(['a'])
    expect(await root.walk('a').ls()).toEqual(['b', 'c'])
  })

  test('ref-counted cleanup: empty nodes disappear when the last handle goes', async () => {
    const tree = new AnchorTree()
    const root = tree.root()
    const deep = root.walk('x/y/z')
    expect(tree.nodes).toBe(3)
    const again = root.walk('x/y/z')
    deep.release()
    expect(tree.nodes).toBe(3) // `again` still holds it
    again.release()
    expect(tree.nodes).toBe(0)
    const held = root.walk('p/q')
    await held.store(b('1'))
    held.release()
    expect(tree.nodes).toBe(2) // a value keeps its node and ancestors
    const h = root.walk('p/q')
    await h.clear()
    h.release()
    expect(tree.nodes).toBe(0)
  })

  test('watch a subtree: events with paths relative to the watcher, in order', async () => {
    const tree = new AnchorTree()
    const root = tree.root()
    const events: AnchorEvent[] = []
    const w = root.walk('apps').watch({ handler: (e) => { events.push(e) } })
    await root.walk('apps/web/port').store(b('80'))
    await root.walk('apps').store(b('self'))
    await root.walk('other').store(b('no'))
    await root.walk('apps/web/port').clear()
    await new Promise((r) => setImmediate(r))
    expect(events.map((e) => [e.kind, e.path])).toEqual([['set', 'web/port'], ['set', ''], ['clear', 'web/port']])
    w.close()
    expect(w.stats().dropped).toBe(0)
  })

  test('read-only attenuation: reads work, writes are ERR_CAP_DENIED, descendants stay read-only', async () => {
    const tree = new AnchorTree()
    const root = tree.root()
    await root.walk('cfg').store(b('1'))
    const ro = root.walk('cfg').readOnly()
    expect(ro.writable).toBe(false)
    expect(s(((await ro.load()) as { bytes: Uint8Array }).bytes)).toBe('1')
    await expect(ro.store(b('2'))).rejects.toMatchObject({ code: 'ERR_CAP_DENIED' })
    await expect(ro.walk('sub').store(b('2'))).rejects.toMatchObject({ code: 'ERR_CAP_DENIED' })
    await expect(ro.clear()).rejects.toMatchObject({ code: 'ERR_CAP_DENIED' })
  })

  test('a capability held at a node is released when replaced or cleared', async () => {
    const tree = new AnchorTree()
    const n = tree.root().walk('svc')
    let released = 0
    const cap = { release: () => { released++ } }
    await n.store({ cap })
    await n.store({ cap }) // same cap again: not released
    expect(released).toBe(0)
    await n.store(b('bytes'))
    expect(released).toBe(1)
    await n.store({ cap })
    await n.clear()
    expect(released).toBe(2)
  })

  test('a released handle fails with ERR_RELEASED', async () => {
    const a = new AnchorTree().root().walk('a')
    a.release()
    await expect(a.load()).rejects.toMatchObject({ code: 'ERR_RELEASED' })
  })
})
