// proc_exit is a typed trap carrying the code and the process id; proc_raise is ENOSYS.
import { ProcessExit, ERRNO } from '../index.js'
import { setup } from '../../test/harness.js'

test('proc_exit(3) throws ProcessExit with code 3, records it, and never exits the host', () => {
  const h = setup()
  let err: unknown
  try { h.call('proc_exit', 3) } catch (e) { err = e }
  expect(err).toBeInstanceOf(ProcessExit)
  expect(err).toMatchObject({ code: 'ERR_PROC_EXIT', exitCode: 3, processId: 'p1' })
  expect(h.wasi.exit?.exitCode).toBe(3)
  expect(process.exitCode ?? 0).toBe(0)
})

test('an exit code is read unsigned', () => {
  const h = setup()
  expect(() => h.call('proc_exit', -1)).toThrow(expect.objectContaining({ exitCode: 0xffffffff }))
})

test('proc_raise is ENOSYS for every signal, and counted', () => {
  const h = setup()
  for (const sig of [0, 2, 9, 15, -1]) h.fails(ERRNO.ENOSYS, () => h.call('proc_raise', sig))
  expect(h.wasi.audit().byFunction.proc_raise).toBe(5)
})
