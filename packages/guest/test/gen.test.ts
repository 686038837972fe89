// The generated clients in assembly/gen/ are what scripts/gen.mjs makes from the saved
// schemas request: a schema change without regenerating (or a hand edit) fails here.
import { generateStubs, staleStubs } from '../scripts/gen.mjs'

describe('assembly/gen', () => {
  test('is current with schemas/schemas.capnp-request.bin', () => {
    expect(staleStubs()).toEqual([])
  })

  test('imports the SDK runtime, never the index (which re-exports it: no cycle)', () => {
    const files = generateStubs()
    expect(files.size).toBeGreaterThan(0)
    for (const [path, src] of files) {
      expect({ path, sdk: /from "\.\.\/runtime";/.test(src), index: /from "[^"]*index"/.test(src) }).toEqual({ path, sdk: true, index: false })
    }
  })
})
