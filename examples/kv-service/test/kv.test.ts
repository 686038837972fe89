// The README's commands, run as written through the real `ww` command: a host, the
// provider spawned on it, the client spawned and waited for (exit 0, the answers checked
// by the client itself and its lines read from the host's log). Then across two hosts
// (js-libp2p on 127.0.0.1): the provider on A, the client spawned onto B.
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { removeHome, startHost as startHostIn, ww as wwIn, type HostChild } from '@ww/cli/testing'

const here = dirname(fileURLToPath(import.meta.url))
const repo = join(here, '..', '..', '..')

// Commands run from the repository's root, as the README's are (its paths are relative to it).
const startHost = (args: string[]): HostChild => startHostIn(args, undefined, {}, { cwd: repo })
const ww = (args: string[], host: HostChild): ReturnType<typeof wwIn> => wwIn(args, { WW_HOME: host.home }, { cwd: repo })

/** The README's first `sh` block: its command lines, comments dropped. */
function readmeCommands(): string[][] {
  const md = readFileSync(join(here, '..', 'README.md'), 'utf8')
  const block = /```sh\n([\s\S]*?)```/.exec(md)![1]!
  return block.split('\n').map((l) => l.replace(/#.*$/, '').trim()).filter(Boolean).map((l) => l.split(/\s+/))
}

const hosts: HostChild[] = []
afterEach(async () => { for (const h of hosts.splice(0)) { await h.stop(); removeHome(h) } })

test('the README, as written: a host, the provider, the client (exit 0, every answer checked)', async () => {
  const cmds = readmeCommands()
  expect(cmds.map((c) => c.slice(0, 2).join(' '))).toEqual(['ww host', 'ww spawn', 'ww spawn'])
  let host: HostChild | undefined
  let last: { status: number; stdout: string; stderr: string } | undefined
  for (const [ww0, ...args] of cmds) {
    expect(ww0).toBe('ww')
    if (args[0] === 'host') {
      host = startHost(args.slice(1).filter((a) => a !== '&'))
      hosts.push(host)
      await host.next((e) => e.event === 'ready', 'ready')
      continue
    }
    last = await ww(args, host!)
    if (args.includes('--name')) await host!.said('providing kv as kv')
  }
  expect(last!.status).toBe(0)
  const out = host!.output()
  expect(out).toContain('users/ada = lovelace')
  expect(out).toContain('keys: greeting, users/ada')
  expect(out).toEqual(expect.arrayContaining(['stored greeting (version 1)', 'stored users/ada (version 2)']))
}, 240_000) // the host meters and instruments each 80 KiB guest first: seconds, more on a loaded machine

test('across hosts: the provider on A, the client on B finds it and calls it, pipelining on the view A returns', async () => {
  const a = startHost(['--listen', '/ip4/127.0.0.1/tcp/0', '--ttl', '60s'])
  hosts.push(a)
  const ra = await a.next((e) => e.event === 'ready', 'A ready')
  const b = startHost(['--join', (ra.addresses as string[])[0]!, '--ttl', '60s'])
  hosts.push(b)
  const rb = await b.next((e) => e.event === 'ready', 'B ready')
  await a.next((e) => e.event === 'join' && e.host === rb.id, 'B joined A')
  expect((await ww(['spawn', 'examples/kv-service/build/provider.wasm', '--name', 'kv-provider'], a)).status).toBe(0)
  await a.said('providing kv as kv')
  const r = await ww(['spawn', 'examples/kv-service/build/client.wasm', '--wait', '--json'], b)
  expect(JSON.parse(r.stdout)).toMatchObject({ host: rb.id, status: { kind: 'exited', code: 0 } })
  expect(b.output()).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^found kv at ${String(ra.id)}/\\d+$`)), 'users/ada = lovelace', 'keys: greeting, users/ada']))
  // The calls ran on A, in its provider.
  expect(a.output()).toEqual(expect.arrayContaining(['stored greeting (version 1)', 'stored users/ada (version 2)']))
}, 240_000)
