// src/cluster/unheard-events.ts on a real yamux stream: events nobody listens to are not
// dispatched, and a listener — added before or after — still gets every event of its type
// from the time it listens until it stops, with the stream working as before.
import { libp2pCluster, type Libp2pCluster } from '../src/index.js'
import { skipUnheardEvents } from '../src/cluster/unheard-events.js'

const PROTOCOL = '/ww/test/unheard/1.0.0'

describe('skipUnheardEvents', () => {
  let a: Libp2pCluster
  let b: Libp2pCluster
  beforeAll(async () => {
    a = await libp2pCluster({})
    b = await libp2pCluster({})
    await b.libp2p.handle(PROTOCOL, (s) => { s.addEventListener('message', (e) => { s.send(e.data) }) })
  }, 30_000)
  afterAll(async () => { await Promise.all([a?.close(), b?.close()]) })

  test('a stream skips unheard events; listeners still get theirs; the echo still works', async () => {
    const stream = await a.libp2p.dialProtocol(b.libp2p.getMultiaddrs(), PROTOCOL)
    const dispatched: string[] = []
    const dispatch = stream.dispatchEvent.bind(stream)
    stream.dispatchEvent = (e: Event): boolean => { dispatched.push(e.type); return dispatch(e) }
    const echo = async (byte: number): Promise<number> => {
      const back = new Promise<number>((resolve) => {
        stream.addEventListener('message', (e) => { resolve(e.data.subarray()[0]!) }, { once: true })
      })
      stream.send(new Uint8Array([byte]))
      return back
    }

    expect(await echo(1)).toBe(1)
    expect(dispatched).toContain('idle') // libp2p's own: an 'idle' after the send

    skipUnheardEvents(stream)
    skipUnheardEvents(stream) // once is enough; again changes nothing
    dispatched.length = 0
    expect(await echo(2)).toBe(2)
    expect(dispatched).not.toContain('idle')
    expect(dispatched).toContain('message') // heard: dispatched

    let idles = 0
    const onIdle = (): void => { idles++ }
    stream.addEventListener('idle', onIdle)
    expect(await echo(3)).toBe(3)
    expect(idles).toBeGreaterThan(0)
    stream.removeEventListener('idle', onIdle)
    const seen = idles
    dispatched.length = 0
    expect(await echo(4)).toBe(4)
    expect(idles).toBe(seen)
    expect(dispatched).not.toContain('idle')
    await stream.close()
  }, 30_000)

  test('an object without main-event\'s methods is left as it is', () => {
    const target = new EventTarget()
    skipUnheardEvents(target)
    expect(Object.getOwnPropertyNames(target)).toEqual([])
  })
})
