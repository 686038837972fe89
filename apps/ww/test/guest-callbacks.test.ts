// Guests are called back across hosts: two `ww host` OS processes on 127.0.0.1 (js-libp2p).
// wasi-listen, spawned on A, serves a Subscriber and a Watcher: messages published via B
// reach it, and so do anchor writes made with the CLI; a "stop" message ends it (exit 0).
import { guestPath } from '@ww/guest'
import { removeHome, startHost, ww, type HostChild, type HostEvent } from './hosts.js'

let a: HostChild, b: HostChild | undefined
const on = (h: HostChild): NodeJS.ProcessEnv => ({ WW_HOME: h.home })

beforeAll(async () => {
  a = startHost(['--listen', '/ip4/127.0.0.1/tcp/0', '--ttl', '60s'])
  await a.ready()
})

afterAll(async () => {
  for (const h of [a, b]) if (h) { await h.stop(); removeHome(h) }
})

test('a guest on A serves a Subscriber and a Watcher: messages published via B and anchors written with the CLI reach it', async () => {
  // Spawned before B joins: A meters and instruments the guest on its event loop first
  // (seconds; on a loaded machine long enough for a peer's link to time out).
  const spawned = ww(['spawn', guestPath('wasi-listen', { asyncify: false }), '--name', 'listener', '--wait', '--json'], on(a))
  const said = (re: RegExp) => (e: HostEvent): boolean => e.event === 'output' && re.test(String(e.text))
  const ready = await a.next(said(/^listening$/), 'the listener subscribed')
  const mine = (re: RegExp) => (e: HostEvent): boolean => e.pid === ready.pid && said(re)(e)
  const ra = await a.ready()
  b = startHost(['--join', (ra.addresses as string[])[0]!, '--ttl', '60s'])
  const rb = await b.ready()
  // Gossipsub forms its mesh a moment after the join: publish until one arrives.
  // Bounded, so that a failure ends the loop with the test (a loop left running would go on
  // publishing after the test timed out).
  for (let n = 0; !a.events.some(mine(/^message \d+ from /)); n++) {
    if (n >= 200) throw new Error('200 messages published via B and none reached the guest on A')
    await ww(['pub', 'news', `hello ${n}`], on(b))
  }
  expect(String(a.events.find(mine(/^message /))!.text)).toMatch(new RegExp(`^message \\d+ from ${String(rb.id)}/0: hello \\d+$`))
  expect((await ww(['anchors', 'put', 'watched/x', 'first'], on(a))).status).toBe(0)
  await a.next(mine(/^changed x set v1: first$/), 'the change of watched/x')
  // A second publisher on B: its messages go on after the first's (the host's seq does).
  expect((await ww(['pub', 'news', 'stop'], on(b))).status).toBe(0)
  const r = await spawned
  expect(JSON.parse(r.stdout)).toMatchObject({ host: ra.id, name: 'listener', status: { kind: 'exited', code: 0 } })
  expect(r.status).toBe(0)
}, 240_000)
