import { RefCount, Revoker, revocable } from './caps.js'
import { createPubSub } from './pubsub/pubsub.js'
import { AnchorTree } from './anchors/tree.js'

describe('capability hygiene', () => {
  test('a revoked handle fails with ERR_REVOKED on every call; the target is untouched', async () => {
    const tree = new AnchorTree()
    const r = new Revoker()
    const a = revocable(tree.root().walk('shared'), r, 'anchor')
    await a.store(new Uint8Array([1]))
    r.revoke()
    await expect(async () => a.load()).rejects.toMatchObject({ code: 'ERR_REVOKED' })
    expect(() => a.path).toThrow(expect.objectContaining({ code: 'ERR_REVOKED' }))
    expect(await tree.root().walk('shared').load()).toMatchObject({ kind: 'bytes' })
  })

  test('revocation of a topic handle, and onRevoke cleanup', async () => {
    const ps = createPubSub({ self: 'h' })
    const r = new Revoker()
    const t = ps.join('x')
    const guarded = revocable(t, r, 'topic')
    r.onRevoke(() => t.release())
    await guarded.publish(new Uint8Array([1]))
    expect(ps.stats().topics).toBe(1)
    r.revoke()
    expect(ps.stats().topics).toBe(0) // revoking freed what the handle held
    await expect(async () => guarded.publish(new Uint8Array([1]))).rejects.toMatchObject({ code: 'ERR_REVOKED' })
  })

  test('RefCount frees on the last release, and only then', () => {
    let freed = 0
    const rc = new RefCount(() => { freed++ })
    rc.retain(); rc.retain(); rc.retain()
    rc.release(); rc.release()
    expect([rc.count, freed]).toEqual([1, 0])
    rc.release()
    expect([rc.count, freed]).toEqual([0, 1])
    expect(() => rc.release()).toThrow(expect.objectContaining({ code: 'ERR_RELEASED' }))
  })
})
