import { HandleTable, MAX_HANDLES, PROC_ERRNO } from './handles.js'

test('one handle per mailbox; handles are small, reused lowest first after a drop; the table is bounded', () => {
  const t = new HandleTable()
  expect([t.grant(11), t.grant(12), t.grant(11), t.grant(13)]).toEqual([0, 1, 0, 2])
  expect([t.target(1), t.target(3), t.target(-1), t.target(2 ** 31 - 1)]).toEqual([12, undefined, undefined, undefined])
  expect([t.drop(1), t.drop(1), t.drop(7)]).toEqual([true, false, false])
  expect([t.target(1), t.find(12)]).toEqual([undefined, undefined])
  expect(t.drop(0)).toBe(true)
  expect([t.grant(14), t.grant(15), t.grant(16)]).toEqual([0, 1, 3])
  for (let pid = 100; t.size < MAX_HANDLES; pid++) expect(t.grant(pid)).toBeGreaterThanOrEqual(0)
  expect(t.grant(1_000_000)).toBe(PROC_ERRNO.TABLE_FULL)
  expect(t.grant(16)).toBe(3) // one held already is still given
  t.clear()
  expect([t.size, t.target(0)]).toEqual([0, undefined])
})
