// capnp-ts is CommonJS: the generated modules must load under Node's real ESM loader,
// not only under jest's transform. Compile the fixture bindings with tsc and run them.

import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const PKG = fileURLToPath(new URL('../', import.meta.url))
const TSC = fileURLToPath(new URL('../../../node_modules/typescript/bin/tsc', import.meta.url))

test('generated bindings compiled by tsc run under node ESM, including an RPC round trip', () => {
  // Inside the package so that `capnp-ts` resolves from its node_modules.
  const out = mkdtempSync(join(PKG, '.esm-test-'))
  try {
    execFileSync(process.execPath, [TSC, '--outDir', out, '--rootDir', join(PKG, 'test'),
      '--target', 'ES2022', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--strict',
      '--noUncheckedIndexedAccess', '--verbatimModuleSyntax', '--skipLibCheck', '--types', 'node',
      join(PKG, 'test/fixtures/gen/features.ts')], { stdio: 'pipe' })
    writeFileSync(join(out, 'package.json'), '{"type":"module"}')
    writeFileSync(join(out, 'main.js'), `
      import { Conn, Message } from 'capnp-ts'
      import * as F from './fixtures/gen/features.js'
      const m = new Message(); m.initRoot(F.Primitives).setText('esm')
      const text = new Message(m.toArrayBuffer(), false).getRoot(F.Primitives).getText()
      const ends = [[], []].map(() => ({ send(d) { const c = d.slice(); queueMicrotask(() => this.peer.cb?.(c)) }, onMessage(cb) { this.cb = cb }, onClose() {}, close() {} }))
      ends[0].peer = ends[1]; ends[1].peer = ends[0]
      const counter = (t) => new F.Counter.Server({ add(p, r) { t += p.getN(); r.setTotal(t) } })
      new Conn(ends[0], { main: new F.LoudEcho.Server({ counter(p, r) { r.setCounter(counter(p.getStart())) } }) })
      const echo = new Conn(ends[1]).bootstrap(F.LoudEcho)
      const total = (await echo.counter((p) => p.setStart(1n)).getCounter().add((p) => p.setN(2n))).getTotal()
      console.log(JSON.stringify({ text, total: String(total), origin: F.origin.getY() }))
      process.exit(0)
    `)
    const stdout = execFileSync(process.execPath, [join(out, 'main.js')], { encoding: 'utf8' })
    expect(JSON.parse(stdout)).toEqual({ text: 'esm', total: '3', origin: -2 })
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
})
