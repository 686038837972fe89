// args_*, environ_*: empty, so libc start-up works; nothing else is ever revealed.
import { ERRNO } from '../index.js'
import { setup } from '../../test/harness.js'

test.each([['args_sizes_get'], ['environ_sizes_get']] as const)('%s reports 0 entries and 0 bytes', (fn) => {
  const h = setup()
  h.dv().setUint32(100, 0xdead, true); h.dv().setUint32(104, 0xbeef, true)
  h.ok(h.call(fn, 100, 104))
  expect([h.u32(100), h.u32(104)]).toEqual([0, 0])
})

test.each([['args_get'], ['environ_get']] as const)('%s writes nothing, whatever the pointers', (fn) => {
  const h = setup()
  h.fails(ERRNO.SUCCESS, () => h.call(fn, 0xfffffff0, 65536))
})

test('a sizes call with one bad pointer writes neither', () => {
  const h = setup()
  h.fails(ERRNO.EFAULT, () => h.call('args_sizes_get', 100, 65534))
})
