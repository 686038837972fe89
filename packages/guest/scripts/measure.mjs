#!/usr/bin/env node
// What asyncify costs the example guests: module size before/after, the price of a
// ww.recv that does not suspend, and a full echo-client run under each suspension mode
// the running Node offers (asyncify everywhere; JSPI where WebAssembly.Suspending
// exists, e.g. Node 24 — on the same asyncify-instrumented module and on the raw one).
//
//   node scripts/measure.mjs            (after the build; needs @ww/transport and @ww/schema built)
import { readFile, readdir } from 'node:fs/promises'
import { join, dirname, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const build = join(root, 'build')
const out = { node: process.version, sizes: [], recv: {}, runs: [] }

for (const f of (await readdir(build)).filter((f) => f.endsWith('.wasm')).sort()) {
  const raw = (await readFile(join(build, 'raw', f))).byteLength
  const asy = (await readFile(join(build, f))).byteLength
  out.sizes.push({ guest: f.replace('.wasm', ''), raw, asyncified: asy, growth: +(asy / raw - 1).toFixed(3) })
}

// ns per non-suspending recv: the conformance guest's recv_loop against an import that
// answers at once. Interleaved rounds, best of each.
async function loop(file) {
  const mod = await WebAssembly.compile(await readFile(file))
  const nop = () => 0
  const inst = await WebAssembly.instantiate(mod, { ww: { send: nop, recv: () => 8, poll: nop }, env: { abort: nop } })
  return inst.exports.recv_loop
}
const variants = { raw: await loop(join(build, 'raw', 'conformance.wasm')), asyncified: await loop(join(build, 'conformance.wasm')) }
const N = 2_000_000
const best = { raw: Infinity, asyncified: Infinity }
for (let round = 0; round < 7; round++) {
  for (const [k, fn] of Object.entries(variants)) {
    const t0 = process.hrtime.bigint()
    fn(N)
    const ns = Number(process.hrtime.bigint() - t0) / N
    if (ns < best[k]) best[k] = ns
  }
}
out.recv = { nsPerRecvRaw: +best.raw.toFixed(2), nsPerRecvAsyncified: +best.asyncified.toFixed(2), extraNs: +(best.asyncified - best.raw).toFixed(2) }

// Full runs on the real transport.
const transport = await import(pathToFileURL(join(root, '../transport/dist/guest/index.js')).href)
const { testing } = await import(pathToFileURL(join(root, '../schema/dist/index.js')).href)
function server() {
  return new testing.Echo.Server({
    ping() {},
    echo(p, r) { const b = p.getPayload().toUint8Array(); r.initPayload(b.byteLength).copyBuffer(b) },
    async counter(p, r) {
      let total = p.getStart()
      await new Promise((res) => setTimeout(res, 0))
      r.setCounter(new testing.Counter.Server({ add(q, s) { total += q.getN(); s.setTotal(total) } }))
    },
  })
}
async function runOnce(bytes, suspension) {
  const exit = await transport.runGuest(bytes, {
    bootstrap: server(), suspension,
    imports: { env: { abort() { throw new Error('guest abort') } } },
  })
  return exit
}
const modes = [['asyncify', 'echo-client.wasm']]
if (transport.jspiAvailable()) modes.push(['jspi', 'echo-client.wasm'], ['jspi', 'raw/echo-client.wasm'])
for (const [mode, file] of modes) {
  const bytes = new Uint8Array(await readFile(join(build, file)))
  const module = await WebAssembly.compile(bytes)
  let exit
  const runs = 200
  const t0 = performance.now()
  for (let i = 0; i < runs; i++) exit = await runOnce(module, mode)
  const ms = (performance.now() - t0) / runs
  out.runs.push({ mode, module: file, ok: exit.ok, result: exit.result, error: exit.error?.message, suspensions: exit.suspensions, msPerRun: +ms.toFixed(3) })
}
console.log(JSON.stringify(out, null, 2))
