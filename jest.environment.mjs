// Jest runs each test file in its own vm context, whose ArrayBuffer and typed arrays are
// not the ones WebAssembly, Buffer and node:* modules hand out, so `instanceof` checks
// fail across the two realms. Guests live in the outer realm: share its binary
// intrinsics with the test context.
import NodeEnvironment from 'jest-environment-node'

const SHARED = [
  'ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'WebAssembly',
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array',
  'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
  'TextEncoder', 'TextDecoder', 'Error', 'TypeError', 'RangeError',
]

export default class SharedBinaryRealmEnvironment extends NodeEnvironment {
  constructor(config, context) {
    super(config, context)
    for (const name of SHARED) this.global[name] = globalThis[name]
  }
}
