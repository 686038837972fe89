// @ww/interface from its tarball: no dependencies, the helpers work, the error base keeps its code.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { AbortedError, WwError, describeStatus, isWwError, shellStatus, trapKindOf } from '@ww/interface'

const manifest = JSON.parse(readFileSync(new URL('./node_modules/@ww/interface/package.json', import.meta.url), 'utf8'))
assert.deepEqual(Object.keys(manifest.dependencies ?? {}), [])

assert.equal(shellStatus({ kind: 'limit', which: 'time' }), 124)
assert.equal(describeStatus({ kind: 'killed', by: { kind: 'parent', pid: 3 } }), 'killed(by parent 3)')
// An engine trap's kind, read from the RuntimeError it threw: (func unreachable)
const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 7, 5, 1, 1, 102, 0, 0, 10, 5, 1, 3, 0, 0, 11])
const f = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.f
assert.throws(() => f(), (e) => trapKindOf(e) === 'unreachable')

const e = new AbortedError('wait 3')
assert.ok(e instanceof WwError && isWwError(e, 'ERR_ABORTED'))
console.log('ok @ww/interface')
