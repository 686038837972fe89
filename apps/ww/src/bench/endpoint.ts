// ww.endpoint: one call from a client to a running `ww host` — Host.info over its RPC
// endpoint (a unix socket, standard capnp stream framing, one call outstanding), in
// ns/op; baseline: the same Host served over an in-process RpcConnection pair (frames
// encoded and decoded, no socket). The ratio is what the socket and the stream framing
// cost a client per call.
// ww.client-startup: `ww cluster ls --json` against that host, start to exit, in ms;
// baseline: `node -e 0` (Node's own start-up). It says what a client command adds.
// `node dist/bench/endpoint.js` runs it.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { measure, report } from '@ww/bench-kit'
import { hostCapability } from '@ww/host'
import { host as capHost } from '@ww/schema'
import { createPair } from '@ww/transport'
import { connectHost } from '../client.js'
import { startHost } from '../host/node.js'

const home = mkdtempSync(join(tmpdir(), 'ww-bench-'))
const h = await startHost({ home })
const record = h.publish()
const session = await connectHost(record.rpc, {})
const hc = hostCapability(h.cluster, { processId: 0, rights: { view: true } })
const [client, server] = createPair({ frames: true, b: { bootstrap: hc.server } })
const paired = client.bootstrap(capHost.Host)

const calls = await measure([
  { name: 'endpoint', fn: async (n) => { for (let i = 0; i < n; i++) await session.host.info() } },
  { name: 'pair', fn: async (n) => { for (let i = 0; i < n; i++) await paired.info() } },
], { iterations: 2000, runs: 7 })
report({
  name: 'ww.endpoint', unit: 'ns/op', samples: calls.get('endpoint')!,
  baseline: { name: 'in-process RpcConnection pair, same Host', samples: calls.get('pair')! },
  params: { call: 'Host.info', transport: 'unix socket', outstanding: 1 },
})

const bin = fileURLToPath(new URL('../bin.js', import.meta.url))
const env = { ...process.env, WW_HOME: home }
// Asynchronously: the host answering the client lives in this process.
const run = promisify(execFile)
const starts = await measure([
  { name: 'client', fn: async (n) => { for (let i = 0; i < n; i++) await run(process.execPath, [bin, 'cluster', 'ls', '--json'], { env }) } },
  { name: 'node', fn: async (n) => { for (let i = 0; i < n; i++) await run(process.execPath, ['-e', '0']) } },
], { iterations: 3, runs: 5, warmup: 1 })
const ms = (xs: number[]): number[] => xs.map((x) => x / 1e6)
report({
  name: 'ww.client-startup', unit: 'ms', samples: ms(starts.get('client')!),
  baseline: { name: 'node -e 0', samples: ms(starts.get('node')!) },
  params: { command: 'ww cluster ls --json' },
})

session.close()
client.close()
server.close()
hc.close()
await h.close()
rmSync(home, { recursive: true, force: true })
