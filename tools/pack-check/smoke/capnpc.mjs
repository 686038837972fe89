// @ww/capnpc from its tarball: the installed `ww-capnpc` bin generates TypeScript from a
// saved CodeGeneratorRequest (copied beside this script by the test), identical to what
// the library export generates, with the expected classes in it.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { generate } from '@ww/capnpc'

const r = spawnSync('node_modules/.bin/ww-capnpc', ['features.request.bin', '--out', 'gen'], { encoding: 'utf8', timeout: 30_000 })
assert.equal(r.status, 0, r.stderr)
const fromLib = generate(readFileSync('features.request.bin'))
assert.ok(fromLib.size > 0, 'generate() produced nothing')
for (const [path, text] of fromLib) assert.equal(readFileSync(join('gen', path), 'utf8'), text, `gen/${path} differs from generate()`)
assert.match([...fromLib.values()].join('\n'), /extends \$\.Struct/)
console.log('ok @ww/capnpc')
