// @ww/host from its tarball: the README's two-host libp2p example as written (every
// libp2p dependency loaded and used), then an embedded cluster's Host capability over an
// RPC pair, publishing on a topic that a local subscriber receives.
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { embeddedCluster, hostCapability } from '@ww/host'
import { createPair } from '@ww/transport'
import { host as capHost } from '@ww/schema'

// The README example, extracted from the installed README and run in its own process.
const readme = readFileSync('node_modules/@ww/host/README.md', 'utf8')
const example = /## Two hosts, one call\n[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)
assert.ok(example, 'README example not found')
writeFileSync('readme-example.mjs', example[1])
assert.deepEqual(execFileSync(process.execPath, ['readme-example.mjs'], { encoding: 'utf8', timeout: 30_000 }).trim().split('\n'), ['true', 'hi from b'])

const c = embeddedCluster({ id: 'host-a' })
const hc = hostCapability(c, { processId: 7, rights: { root: true } })
const [client, server] = createPair({ frames: true, b: { bootstrap: hc.server } })
const seen = []
const sub = c.pubsub.join('news').subscribe({ capacity: 8, handler: (m) => { seen.push(new TextDecoder().decode(m.data)) } })
const topic = client.bootstrap(capHost.Host).pubSub().getPubSub().join((p) => p.setName('news')).getTopic()
await topic.publish((p) => p.setMsg(new TextEncoder().encode('hello')))
for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((r) => setImmediate(r))
assert.deepEqual(seen, ['hello'])
sub.close()
client.close()
server.close()
hc.close()
await c.close()
console.log('ok @ww/host')
