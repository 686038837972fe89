import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { findStale } from './check.js'
import { main, parseArgs } from './cli.js'
import { CapnpcError } from './errors.js'
import { generate } from './generate.js'

const FIXTURES = fileURLToPath(new URL('../test/fixtures/', import.meta.url))
const REQUEST = readFileSync(join(FIXTURES, 'features.request.bin'))

describe('generate', () => {
  test('the committed fixture bindings are what the generator produces (regenerate: see README)', () => {
    const out = generate(REQUEST, { assemblyscript: true })
    expect([...out.keys()].sort()).toEqual(['assembly/features.ts', 'assembly/imported.ts', 'features.ts', 'imported.ts'])
    expect(findStale(new Map([...out].filter(([p]) => !p.startsWith('assembly/'))), join(FIXTURES, 'gen'))).toEqual([])
    expect(findStale(new Map([...out].filter(([p]) => p.startsWith('assembly/')).map(([p, s]) => [p.slice(9), s])), join(FIXTURES, 'assembly'))).toEqual([])
  })

  test('is deterministic and accepts an ArrayBuffer', () => {
    const a = generate(REQUEST)
    const copy = REQUEST.buffer.slice(REQUEST.byteOffset, REQUEST.byteOffset + REQUEST.byteLength)
    expect(generate(copy)).toEqual(a)
  })

  test('imports across schema files are relative ESM imports', () => {
    const src = generate(REQUEST).get('features.ts') ?? ''
    expect(src).toContain("import * as $imported from './imported.js'")
    expect(src).toContain("import * as $ from 'capnp-ts'")
  })

  test('implicit parameter and result structs get stable names', () => {
    const src = generate(REQUEST).get('features.ts') ?? ''
    for (const name of ['Echo_ping$Params', 'Echo_ping$Results', 'Echo_counter$Promise', 'Echo$Client', 'Echo$Server', 'LoudEcho_shout$Params']) {
      expect(src).toMatch(new RegExp(`export (class|interface|const) ${name.replace(/\$/g, '\\$')}\\b`))
    }
  })

  test('AssemblyScript constants follow the documented naming', () => {
    const as = generate(REQUEST, { assemblyscript: true, typescript: false })
    expect([...as.keys()]).toEqual(['assembly/imported.ts', 'assembly/features.ts'])
    const src = as.get('assembly/features.ts') ?? ''
    expect(src).toContain('export namespace Echo {\n  export const ID: u64 = 0xd9720c1b1ebaa629;\n  export const M_ping: u16 = 0;')
    expect(src).toMatch(/export namespace Primitives \{\n {2}export const DATA_WORDS: u16 = 6;\n {2}export const POINTER_COUNT: u16 = 2;/)
    expect(src).toContain('  export const B_b1: u32 = 1;')
    expect(src).toContain('  export const F_i32: u32 = 4;')
    expect(src).toContain('  export const P_data: u16 = 1;')
    expect(src).toContain('  export const DISCRIMINANT: u32 = 8;')
    expect(src).toContain('  export const W_label: u16 = 4;')
    expect(src).toContain('  export const F_rect_height: u32 = 16;')
    expect(src).toContain('  export const DISCRIMINANT_style_extra: u32 = 14;')
    expect(src).toContain('  export const W_style_extra_note: u16 = 2;')
    expect(src).toContain('export namespace Echo_counter$Results {')
    expect(src).toContain('export enum Mood {\n  HAPPY = 0,\n  SAD = 1,\n  SLEEPY_HEAD = 2,\n}')
  })

  test('an index module re-exports each file as a namespace', () => {
    expect(generate(REQUEST, { indexModule: true }).get('index.ts')).toContain("export * as features from './features.js'\nexport * as imported from './imported.js'\n")
  })

  test('bytes that are not a request fail with ERR_BAD_REQUEST', () => {
    const err = (() => { try { generate(new Uint8Array(16)) } catch (e) { return e } })()
    expect(err).toBeInstanceOf(CapnpcError)
    expect((err as CapnpcError).code).toBe('ERR_BAD_REQUEST')
  })
})

describe('ww-capnpc CLI', () => {
  test('argument errors are ERR_USAGE', () => {
    expect(() => parseArgs([])).toThrow(expect.objectContaining({ code: 'ERR_USAGE' }))
    expect(() => parseArgs(['r.bin', '--out'])).toThrow(expect.objectContaining({ code: 'ERR_USAGE' }))
    expect(parseArgs(['r.bin', '--out', 'o', '--check', '--index'])).toEqual({ request: 'r.bin', out: 'o', asOut: undefined, asRpc: false, asSdk: undefined, check: true, index: true })
  })

  test('--help prints the usage and every option, exit 0, writing nothing', () => {
    const logs: string[] = []
    expect(main(['--help'], (l) => logs.push(l))).toBe(0)
    const help = logs.join('\n')
    for (const o of ['<request.bin>', '--out', '--as-out', '--index', '--check', 'capnp compile -o-']) expect(help).toContain(o)
  })

  test('writes, then --check passes, then fails listing a changed file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'capnpc-'))
    try {
      const req = join(FIXTURES, 'features.request.bin')
      const logs: string[] = []
      expect(main([req, '--out', dir, '--as-out', join(dir, 'as')], () => {})).toBe(0)
      expect(main([req, '--out', dir, '--as-out', join(dir, 'as'), '--check'], (l) => logs.push(l))).toBe(0)
      writeFileSync(join(dir, 'as', 'features.ts'), '// edited\n')
      rmSync(join(dir, 'imported.ts'))
      expect(main([req, '--out', dir, '--as-out', join(dir, 'as'), '--check'], (l) => logs.push(l))).toBe(1)
      expect(logs.filter((l) => l.startsWith('stale:')).sort()).toEqual([
        `stale: ${dir}/as/features.ts (differs)`,
        `stale: ${dir}/imported.ts (missing)`,
      ])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
