import { AbortedError, WwError, isWwError } from './index.js'

class ThingError extends WwError<'ERR_THING'> {
  constructor() { super('ERR_THING', 'a thing went wrong') }
}

test('a derived error keeps its code, its class name and its cause', () => {
  const cause = new Error('underneath')
  const e = new AbortedError('wait 3', { cause })
  expect(e).toBeInstanceOf(WwError)
  expect([e.code, e.name, e.message, e.cause]).toEqual(['ERR_ABORTED', 'AbortedError', 'aborted: wait 3', cause])
  expect(new ThingError().name).toBe('ThingError')
})

test('isWwError tells ww errors apart by code, not by message', () => {
  expect(isWwError(new ThingError())).toBe(true)
  expect(isWwError(new ThingError(), 'ERR_THING')).toBe(true)
  expect(isWwError(new ThingError(), 'ERR_ABORTED')).toBe(false)
  expect(isWwError(Object.assign(new Error('ERR_THING: looks like one'), { code: 'ERR_THING' }))).toBe(false)
  expect(isWwError(undefined)).toBe(false)
})
