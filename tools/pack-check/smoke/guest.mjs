// @ww/guest from its tarball: every example guest resolves to a shipped, valid module,
// in both flavours (asyncify-instrumented, and the raw build the scheduler meters).
import assert from 'node:assert/strict'
import { guestBytes, guestNames, guestPath } from '@ww/guest'

for (const name of guestNames) {
  for (const asyncify of [true, false]) {
    assert.ok(guestPath(name, { asyncify }).includes('node_modules'), `${name} resolved outside the install`)
    const bytes = await guestBytes(name, { asyncify })
    assert.ok(WebAssembly.validate(bytes), `${name} (asyncify: ${asyncify}) is not valid WebAssembly`)
  }
}
console.log('ok @ww/guest')
