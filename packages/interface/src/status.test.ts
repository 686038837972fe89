import { describeStatus, isNormal, shellStatus, trapField, trapKindOf, trapKindOfCode, type ExitStatus, type TrapKind } from './index.js'

// A module exporting `f`, a function () -> () with `body` (locals vector included).
function trapping(body: number[]): () => void {
  const code = [1, body.length, ...body]
  const bytes = new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    1, 4, 1, 0x60, 0, 0, // type: () -> ()
    3, 2, 1, 0, // one function of type 0
    5, 3, 1, 0, 1, // memory: 1 page
    7, 5, 1, 1, 0x66, 0, 0, // export "f"
    10, code.length, ...code,
  ])
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes))
  return inst.exports['f'] as () => void
}

function thrown(f: () => void): unknown {
  try { f() } catch (e) { return e }
  throw new Error('it did not trap')
}

test("the engine's own traps get their kind where they are caught", () => {
  const cases: Array<[number[], TrapKind]> = [
    [[0, 0x00, 0x0b], 'unreachable'],
    [[0, 0x41, 1, 0x41, 0, 0x6d, 0x1a, 0x0b], 'divideByZero'], // i32.div_s 1 / 0
    [[0, 0x41, 0x80, 0x80, 0x04, 0x28, 2, 0, 0x1a, 0x0b], 'memoryOutOfBounds'], // i32.load at 65536
    [[0, 0x10, 0, 0x0b], 'stackOverflow'], // f calls itself forever
  ]
  for (const [body, kind] of cases) expect([kind, trapKindOf(thrown(trapping(body)))]).toEqual([kind, kind])
})

test('an error with a code gets its kind from the code, never from its message', () => {
  const err = (code: string, message: string): Error => Object.assign(new Error(message), { code })
  expect(trapKindOf(err('ERR_BAD_FRAME', 'whatever'))).toBe('badFrame')
  expect(trapKindOf(err('ERR_GUEST_MEMORY', '[0, 8) is outside memory'))).toBe('badFrame')
  // The message names a trap, but the code says what it is.
  expect(trapKindOf(err('ERR_DEVICE', 'unreachable device'))).toBe('other')
  // A plain error is not a trap of any kind the engine has.
  expect(trapKindOf(new Error('divide by zero'))).toBe('other')
  expect(trapKindOfCode(undefined)).toBe('other')
})

test('shell statuses follow the table in schemas/README.md', () => {
  const rows: Array<[ExitStatus, number]> = [
    [{ kind: 'exited', code: 0 }, 0],
    [{ kind: 'exited', code: 3 }, 3],
    [{ kind: 'exited', code: 4096 }, 255],
    [{ kind: 'exited', code: -1 }, 255],
    [{ kind: 'trapped', reason: 'unreachable', trap: 'unreachable' }, 134],
    [{ kind: 'killed', reason: 'requested' }, 137],
    [{ kind: 'limit', which: 'time' }, 124],
    [{ kind: 'limit', which: 'memory' }, 137],
    [{ kind: 'failedToStart', reason: 'no such import' }, 126],
    [{ kind: 'hostLost', host: 'h1' }, 125],
  ]
  expect(rows.map(([s]) => shellStatus(s))).toEqual(rows.map(([, n]) => n))
})

test('only exited(0) is normal; every status reads as one line', () => {
  const all: ExitStatus[] = [
    { kind: 'exited', code: 0 }, { kind: 'exited', code: 1 },
    { kind: 'trapped', reason: 'bad', code: 'ERR_GUEST_ABI', trap: 'badFrame' },
    { kind: 'killed', by: { kind: 'parent', pid: 3 } }, { kind: 'killed', reason: 'requested', by: { kind: 'process', host: 'h', pid: 0 } },
    { kind: 'limit', which: 'fuel', detail: 'CPU budget of 10 fuel' }, { kind: 'hostLost', host: 'h2' }, { kind: 'failedToStart', reason: 'nope' },
  ]
  expect(all.filter(isNormal)).toEqual([{ kind: 'exited', code: 0 }])
  expect(all.map(describeStatus)).toEqual([
    'exited(0)', 'exited(1)', 'trapped(ERR_GUEST_ABI: bad)', 'killed(by parent 3)', 'killed(requested, by process h/0)',
    'limit(fuel: CPU budget of 10 fuel)', 'hostLost(h2)', 'failedToStart(nope)',
  ])
})

test("a trapped status holds a kind only when it is known: other is the field's absence", () => {
  expect({ kind: 'trapped', reason: 'r', ...trapField('other') }).toEqual({ kind: 'trapped', reason: 'r' })
  expect({ kind: 'trapped', reason: 'r', ...trapField('unreachable') }).toEqual({ kind: 'trapped', reason: 'r', trap: 'unreachable' })
})
