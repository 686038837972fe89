// Three parties across hosts: C (wasi-serve-echo) serves an Echo on host B and offers it in
// the registry; a parent guest on host A finds it and hands it to its child (on A) through
// ExecOptions.caps; the child's calls go A → B over /ww/rpc to C, not through the parent.
// Two `ww host` OS processes on 127.0.0.1 (js-libp2p). The path of the bytes: child → A
// (its Host's BootContext forwarder) → A's registry forwarder → /ww/rpc → B's provision
// forwarder → C, and back.
import { guestPath } from '@ww/guest'
import { removeHome, startHost, ww, type HostChild, type HostEvent } from './hosts.js'

let a: HostChild, b: HostChild | undefined
const on = (h: HostChild): NodeJS.ProcessEnv => ({ WW_HOME: h.home })
const said = (re: RegExp) => (e: HostEvent): boolean => e.event === 'output' && re.test(String(e.text))

beforeAll(async () => {
  a = startHost(['--listen', '/ip4/127.0.0.1/tcp/0', '--ttl', '60s'])
  await a.ready()
})

afterAll(async () => {
  for (const h of [a, b]) if (h) { await h.stop(); removeHome(h) }
})

test('A hands its child a capability C serves on B; the child\'s calls reach C', async () => {
  const ra = await a.ready()
  b = startHost(['--join', (ra.addresses as string[])[0]!, '--ttl', '60s'])
  const rb = await b.ready()
  await a.next((e) => e.event === 'join' && e.host === rb.id, 'B joined A')
  expect((await ww(['spawn', guestPath('wasi-serve-echo', { asyncify: false }), '--args', 'echo-c', '--name', 'c'], on(b))).status).toBe(0)
  const c = await b.next(said(/^providing echo as echo-c$/), 'C providing echo-c')
  const r = await ww(['spawn', guestPath('wasi-delegate', { asyncify: false }), '--args', 'find:echo-c', '--name', 'parent', '--wait', '--json'], on(a))
  expect(JSON.parse(r.stdout)).toMatchObject({ host: ra.id, status: { kind: 'exited', code: 0 } })
  const out = a.events.filter(said(/./)).map((e) => String(e.text))
  expect(out).toContain(`parent: passing echo-c of ${String(rb.id)}/${String(c.pid)}`)
  expect(out).toContain('child: echoed hello from the child')
  expect(out).toContain('parent: served 0 call(s); the child exited 0') // the calls did not go through the parent
}, 240_000)
