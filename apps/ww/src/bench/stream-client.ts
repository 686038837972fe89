// What the ui benches share: a page's stream read over HTTP (the bytes it sends per
// second once the page has said what it views), and what the view before sent for the
// same tables (every row of every host, twice a second).
import { request } from 'node:http'
import type { ProcessRow } from '../host/status.js'

export interface PageView { offset: number; limit: number; collapsed: string[]; selected: string | null }

/** Opens `url`'s /events, sets the view, and counts the bytes that arrive in `ms` after that, per second. */
export function streamBytes(url: string, view: PageView, ms: number): Promise<number> {
  const base = new URL(url)
  const headers = { host: base.host }
  return new Promise((resolve, reject) => {
    let bytes = 0
    let counting = false
    let buffered = ''
    const req = request({ host: base.hostname, port: base.port, path: '/events', agent: false, headers }, (res) => {
      res.on('error', () => { /* the window's end destroys it */ })
      res.on('data', (chunk: Buffer) => {
        if (counting) { bytes += chunk.length; return }
        buffered += chunk.toString('utf8')
        const hello = /event: hello\ndata: (.*)\n\n/.exec(buffered)
        if (hello === null) return
        const stream = (JSON.parse(hello[1]!) as { stream: string }).stream
        const post = request({ host: base.hostname, port: base.port, path: '/api/view', method: 'POST', agent: false, headers: { ...headers, 'content-type': 'application/json' } }, (r) => {
          r.resume()
          // Counted from the view being set: the first frames (the history) are sent once per page.
          counting = true
          setTimeout(() => { req.destroy(); resolve(bytes * 1000 / ms) }, ms)
        })
        post.on('error', reject).end(JSON.stringify({ stream, ...view }))
      })
    })
    req.on('error', (e) => { if (!counting) reject(e) })
    req.end()
  })
}

/** One frame of the view before this one's stream: every host with every row (it sent two a second). */
export function oldSnapshotBytes(self: string, hosts: ReadonlyArray<{ host: string; processes: readonly ProcessRow[] }>): number {
  const snap = {
    self, cluster: 'libp2p', at: Date.now(),
    hosts: hosts.map((s) => ({ id: s.host, addresses: ['/ip4/10.0.0.1/tcp/4001'], load: s.processes.length, uptimeMs: 1, version: '0.1.0', processes: s.processes })),
    topics: [], pubsub: { published: 0, received: 0, subscriptions: 0 },
  }
  return Buffer.byteLength(`data: ${JSON.stringify(snap)}\n\n`)
}
