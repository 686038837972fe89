// Cluster trust through the real binary: `ww key`, `ww host --swarm-key` with OS processes
// on 127.0.0.1 (three hosts with one key form a cluster; a fourth with another key never
// appears), a restarted host keeping its id while its peers reconnect, the TCP endpoint's
// token, and bad input — each a clear message, exit 2, nothing started.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { removeHome, startHost, ww, type HostChild } from './hosts.js'

const dir = mkdtempSync(join(tmpdir(), 'ww-trust-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const file = (name: string, text: string, mode = 0o600): string => {
  const f = join(dir, name)
  writeFileSync(f, text, { mode })
  chmodSync(f, mode)
  return f
}
const newHome = (): string => mkdtempSync(join(tmpdir(), 'ww-home-'))
const HEX = 'ab'.repeat(32)
const ID = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'

describe('ww key', () => {
  test('swarm: the go-libp2p/IPFS format on stdout; --out writes it 0600 and never overwrites', async () => {
    const r = await ww(['key', 'swarm'])
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}\n$/)
    const out = join(dir, 'new.key')
    expect((await ww(['key', 'swarm', '--out', out])).status).toBe(0)
    expect(statSync(out).mode & 0o777).toBe(0o600)
    expect(readFileSync(out, 'utf8')).toMatch(/^\/key\/swarm\/psk\/1\.0\.0\/\n/)
    const again = await ww(['key', 'swarm', '--out', out])
    expect(again.status).toBe(2)
    expect(again.stderr).toMatch(/exists: a key in use is never overwritten/)
  }, 60_000)

  test('token: 64 hex digits; id: the same peer id each time from one home', async () => {
    expect((await ww(['key', 'token'])).stdout).toMatch(/^[0-9a-f]{64}\n$/)
    const home = newHome()
    const a = await ww(['key', 'id'], { WW_HOME: home })
    expect(a.stdout).toMatch(/^12D3KooW\w+\n$/)
    expect((await ww(['key', 'id'], { WW_HOME: home })).stdout).toBe(a.stdout)
    expect(statSync(join(home, 'identity.key')).mode & 0o777).toBe(0o600)
    rmSync(home, { recursive: true, force: true })
  }, 60_000)
})

describe('bad input: a clear message, exit 2, nothing started', () => {
  const good = file('good.key', `/key/swarm/psk/1.0.0/\n/base16/\n${HEX}\n`)
  const cases: Array<[string, string[], NodeJS.ProcessEnv, RegExp]> = [
    ['a malformed swarm key', ['--listen', '/ip4/127.0.0.1/tcp/0', '--swarm-key', file('junk.key', 'hello\n')], {}, /does not start with \/key\/swarm\/psk\/1\.0\.0\//],
    ['a truncated swarm key', ['--listen', '/ip4/127.0.0.1/tcp/0', '--swarm-key', file('short.key', `/key/swarm/psk/1.0.0/\n/base16/\n${HEX.slice(0, 50)}`)], {}, /50 hex digits, not 64/],
    ['a world-readable swarm key', ['--listen', '/ip4/127.0.0.1/tcp/0', '--swarm-key', file('open.key', `/key/swarm/psk/1.0.0/\n/base16/\n${HEX}\n`, 0o644)], {}, /readable by others \(mode 644\).*chmod 600/],
    ['WW_SWARM_KEY naming a malformed key', ['--listen', '/ip4/127.0.0.1/tcp/0'], { WW_SWARM_KEY: join(dir, 'junk.key') }, /swarm key file .*junk\.key does not start/],
    ['a missing swarm key file', ['--join', `/ip4/127.0.0.1/tcp/1/p2p/${ID}`, '--swarm-key', join(dir, 'nope.key')], {}, /cannot read swarm key file .*ENOENT/],
    ['a non-loopback --listen without a key', ['--listen', '/ip4/0.0.0.0/tcp/0'], {}, /refusing to open \/ip4\/0\.0\.0\.0\/tcp\/0 without --swarm-key/],
    ['a non-loopback --join without a key', ['--join', `/ip4/10.1.2.3/tcp/4001/p2p/${ID}`], {}, /without --swarm-key/],
    ['a malformed peer id in --allow', ['--listen', '/ip4/127.0.0.1/tcp/0', '--swarm-key', good, '--allow', 'QmNotAPeer'], {}, /--allow: 'QmNotAPeer' is not a libp2p peer id/],
    ['an unknown right in --allow', ['--listen', '/ip4/127.0.0.1/tcp/0', '--allow', `${ID}=exec,everything`], {}, /unknown right 'everything'/],
    ['a bad line in --allow-file', ['--listen', '/ip4/127.0.0.1/tcp/0', '--allow-file', file('allow.txt', `${ID}\n12D3KooWtruncated\n`)], {}, /allow\.txt line 2: '12D3KooWtruncated' is not a libp2p peer id/],
    ['an unknown --pubsub-limit', ['--listen', '/ip4/127.0.0.1/tcp/0', '--pubsub-limit', 'messages=10,speed=3'], {}, /--pubsub-limit: cannot read 'speed=3' \(the limits are messages, bytes, frames, burst\)/],
    ['a --pubsub-limit of 0', ['--listen', '/ip4/127.0.0.1/tcp/0', '--pubsub-limit', 'frames=0'], {}, /--pubsub-limit: frames must be a number above 0, not '0'/],
    ['--join-timeout without --join', ['--listen', '/ip4/127.0.0.1/tcp/0', '--join-timeout', '5s'], {}, /--join-timeout is for a host that joins/],
    ['a --join-timeout that is not a duration', ['--join', `/ip4/127.0.0.1/tcp/1/p2p/${ID}`, '--join-timeout', 'soon'], {}, /--join-timeout: cannot read the duration 'soon'/],
    ['--pubsub-limit on an embedded host', ['--pubsub-limit', 'off'], {}, /--pubsub-limit is for a libp2p host/],
    ['--swarm-key on an embedded host', ['--swarm-key', good], {}, /--swarm-key is for a libp2p host/],
    ['a non-loopback --rpc without a token', ['--rpc', '0.0.0.0:0'], {}, /--rpc 0\.0\.0\.0:0 is reachable from other machines.*it needs --token FILE/],
    ['a token of the wrong length', ['--rpc', '127.0.0.1:0', '--token', file('short.token', 'abcd\n')], {}, /the token in .*short\.token has 4 characters, not 64/],
    ['a world-readable token', ['--rpc', '127.0.0.1:0', '--token', file('open.token', `${HEX}\n`, 0o644)], {}, /readable by others/],
  ]
  test.each(cases)('%s', async (_name, args, env, message) => {
    const home = newHome()
    const r = await ww(['host', ...args], { WW_HOME: home, ...env })
    expect(r.stderr).toMatch(message)
    expect(r.status).toBe(2)
    expect(existsSync(join(home, 'host.json'))).toBe(false)
    rmSync(home, { recursive: true, force: true })
  }, 60_000)

  test('an identity key readable by group is refused', async () => {
    const home = newHome()
    expect((await ww(['key', 'id'], { WW_HOME: home })).status).toBe(0)
    chmodSync(join(home, 'identity.key'), 0o640)
    const r = await ww(['host', '--listen', '/ip4/127.0.0.1/tcp/0'], { WW_HOME: home })
    expect(r.stderr).toMatch(/identity key file .*identity\.key is readable by others \(mode 640\)/)
    expect(r.status).toBe(2)
    expect(existsSync(join(home, 'host.json'))).toBe(false)
    rmSync(home, { recursive: true, force: true })
  }, 60_000)
})

describe('a private cluster of ww host processes', () => {
  const key = file('cluster.key', `/key/swarm/psk/1.0.0/\n/base16/\n${'5e'.repeat(32)}\n`)
  const other = file('other.key', `/key/swarm/psk/1.0.0/\n/base16/\n${'e5'.repeat(32)}\n`)
  let a: HostChild, b: HostChild, c: HostChild, d: HostChild | undefined, a2: HostChild | undefined
  const ids = { a: '', b: '', c: '', d: '' }
  const sawJoin = (h: HostChild, id: string, n = 1): Promise<unknown> =>
    h.next(() => h.events.filter((e) => e.event === 'join' && e.host === id).length >= n, `join #${n} of ${id}`)
  const listed = async (h: HostChild): Promise<string[]> =>
    (JSON.parse((await ww(['cluster', 'ls', '--json'], { WW_HOME: h.home })).stdout) as Array<{ id: string }>).map((x) => x.id).sort()

  afterAll(async () => {
    for (const h of [a2, d, c, b, a]) if (h) { await h.stop(); removeHome(h) }
  })

  test('three hosts with one key form a cluster; a fourth with another key never appears', async () => {
    a = startHost(['--listen', '/ip4/127.0.0.1/tcp/0', '--swarm-key', key, '--ttl', '3s'])
    const ra = await a.ready()
    ids.a = String(ra.id)
    const addr = (ra.addresses as string[])[0]!
    // host.json names the id the identity file gives.
    expect(JSON.parse(readFileSync(join(a.home, 'host.json'), 'utf8')).id).toBe(ids.a)
    expect((await ww(['key', 'id'], { WW_HOME: a.home })).stdout.trim()).toBe(ids.a)
    // B names the key with the flag, C takes it from the environment.
    b = startHost(['--join', addr, '--swarm-key', key, '--ttl', '3s'])
    c = startHost(['--join', addr, '--ttl', '3s'], newHome(), { WW_SWARM_KEY: key })
    const [rb, rc] = await Promise.all([b.ready(), c.ready()])
    ids.b = String(rb.id); ids.c = String(rc.id)
    await Promise.all([sawJoin(a, ids.b), sawJoin(a, ids.c), sawJoin(b, ids.c), sawJoin(c, ids.b)])
    for (const h of [a, b, c]) expect(await listed(h)).toEqual([ids.a, ids.b, ids.c].sort())

    // D's id is known before it starts (its identity file), so its absence can be checked.
    const dHome = newHome()
    ids.d = (await ww(['key', 'id'], { WW_HOME: dHome })).stdout.trim()
    d = startHost(['--join', addr, '--swarm-key', other, '--ttl', '3s', '--join-timeout', '3s'], dHome)
    // It never gets in: its join gives up (exit 1) and says why.
    expect(await d.exited).toBe(1)
    expect(d.stderr).toMatch(/no answer from .* with the same swarm key/)
    for (const h of [a, b, c]) {
      expect(await listed(h)).toEqual([ids.a, ids.b, ids.c].sort())
      expect(h.events.filter((e) => e.host === ids.d)).toEqual([])
    }
  }, 180_000)

  test('a restarted host keeps its id and its peers reconnect', async () => {
    const port = /\/tcp\/(\d+)\//.exec(((await a.ready()).addresses as string[])[0]!)![1]!
    expect(await a.stop()).toBe(0)
    await Promise.all([
      b.next((e) => e.event === 'leave' && e.host === ids.a, 'A leaves'),
      c.next((e) => e.event === 'leave' && e.host === ids.a, 'A leaves'),
    ])
    // Same home (same identity.key), same port: B and C still dial the address they joined through.
    a2 = startHost(['--listen', `/ip4/127.0.0.1/tcp/${port}`, '--swarm-key', key, '--ttl', '3s'], a.home)
    expect(String((await a2.ready()).id)).toBe(ids.a)
    await Promise.all([sawJoin(b, ids.a, 2), sawJoin(c, ids.a, 2), sawJoin(a2, ids.b), sawJoin(a2, ids.c)])
    expect(await listed(a2)).toEqual([ids.a, ids.b, ids.c].sort())
  }, 180_000)
})

describe('the TCP endpoint\'s token', () => {
  let h: HostChild
  const token = file('rpc.token', `${'0f'.repeat(32)}\n`)
  const wrong = file('wrong.token', `${'f0'.repeat(32)}\n`)
  afterAll(async () => { if (h) { await h.stop(); removeHome(h) } })

  test('clients with the token get in; without it or with another they are refused, and the host goes on', async () => {
    h = startHost(['--rpc', '127.0.0.1:0', '--token', token])
    const rpc = String((await h.ready()).rpc)
    const ok = await ww(['ps', '--host', rpc, '--token', token, '--json'])
    expect(ok.status).toBe(0)
    expect(JSON.parse(ok.stdout)).toEqual([])
    expect((await ww(['ps', '--host', rpc, '--json'], { WW_TOKEN: token })).status).toBe(0)
    // Through host.json (the same home): the recorded token file.
    expect((await ww(['ps', '--json'], { WW_HOME: h.home })).status).toBe(0)
    const other = await ww(['ps', '--host', rpc, '--token', wrong])
    expect(other.status).toBe(1)
    expect(other.stderr).toMatch(/refused the token/)
    const none = await ww(['ps', '--host', rpc])
    expect(none.status).toBe(1)
    expect(none.stderr).toMatch(/the host closed the connection[\s\S]*--token FILE or WW_TOKEN/)
    const short = await ww(['ps', '--host', rpc, '--token', file('client-short.token', 'abc\n')])
    expect(short.status).toBe(2)
    expect(short.stderr).toMatch(/has 3 characters, not 64/)
    expect((await ww(['ps', '--host', rpc, '--token', token])).status).toBe(0)
  }, 120_000)
})

