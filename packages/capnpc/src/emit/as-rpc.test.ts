// The AssemblyScript stubs' shape: which classes and members exist, what they import and
// which ids and constants they use. That they compile and read/write the right bytes is
// test/as-stubs.test.ts.

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { main, parseArgs } from '../cli.js'
import { CapnpcError } from '../errors.js'
import { generate } from '../generate.js'

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/', import.meta.url))
const FEATURES = readFileSync(join(FIXTURES, 'features.request.bin'))
const KV = readFileSync(join(FIXTURES, '../../../../examples/kv-service/kv.capnp-request.bin'))
const EDGE = readFileSync(join(FIXTURES, 'edge.request.bin'))
const CLASH = readFileSync(join(FIXTURES, 'clash.request.bin'))
const IMPORTER = readFileSync(join(FIXTURES, 'importer.request.bin'))

function stubs(req: Uint8Array, file: string, asSdk?: string): string {
  const src = generate(req, { typescript: false, assemblyscript: true, asRpc: true, asSdk }).get(`assembly/${file}`)
  if (src === undefined) throw new Error(`no assembly/${file}`)
  return src
}

/** The body of `class name …{` up to its closing line (`}` at column 0). */
function classBody(src: string, name: string): string {
  const at = src.search(new RegExp(`^export (abstract )?class ${name.replace(/\$/g, '\\$')}\\b`, 'm'))
  if (at < 0) throw new Error(`no class ${name}`)
  return src.slice(at, src.indexOf('\n}', at))
}

function errorOf(f: () => unknown): CapnpcError {
  try { f() } catch (e) { if (e instanceof CapnpcError) return e; throw e }
  throw new Error('did not throw')
}

describe('AssemblyScript RPC stubs', () => {
  test('constants-only output (the default) imports nothing; --as-rpc imports the SDK from the given module', () => {
    const plain = generate(KV, { typescript: false, assemblyscript: true }).get('assembly/kv.ts') ?? ''
    expect(plain).not.toMatch(/^import /m)
    expect(plain).not.toContain('class ')
    expect(stubs(KV, 'kv.ts')).toMatch(/^import \{[^}]*\bStructReader\b[^}]*\} from "@ww\/guest\/assembly\/index";$/m)
    expect(stubs(KV, 'kv.ts', '../sdk/index')).toContain('} from "../sdk/index";')
    // The stubs keep every constant of the constants-only module.
    const rpc = stubs(KV, 'kv.ts')
    for (const line of plain.split('\n').filter((l) => l.includes('export const'))) expect(rpc).toContain(line)
  })

  test('a schema file imported by another is imported as a relative AssemblyScript module', () => {
    expect(stubs(FEATURES, 'features.ts')).toContain('import * as $imported from "./imported";')
  })

  test('Kv: a client method and a <m>Request() per method, typed by the params', () => {
    const c = classBody(stubs(KV, 'kv.ts'), 'KvClient')
    expect(c).toContain('export class KvClient extends Client {')
    expect(c).toContain('get(key: string): Kv_get$Answer {')
    expect(c).toContain('put(key: string, value: Uint8Array): Kv_put$Answer {')
    expect(c).toContain('keys(): Kv_keys$Answer {')
    expect(c).toContain('sub(prefix: string): Kv_sub$Answer {')
    for (const m of ['get', 'put', 'keys', 'sub']) expect(c).toContain(`${m}Request(): Kv_${m}$Request { return new Kv_${m}$Request(this.cap); }`)
  })

  test('Kv: a request starts the call with the interface id, method id and params size', () => {
    const r = classBody(stubs(KV, 'kv.ts'), 'Kv_put$Request')
    expect(r).toContain('startCall(target, Kv.ID, Kv.M_put, Kv_put$Params.DATA_WORDS, Kv_put$Params.POINTER_COUNT)')
    expect(r).toContain('params: Kv_put$Params.Builder;')
    expect(r).toContain('send(): Kv_put$Answer')
  })

  test('Kv: the answer reads typed results and pipelines on a capability result', () => {
    const src = stubs(KV, 'kv.ts')
    const a = classBody(src, 'Kv_sub$Answer')
    expect(a).toContain('extends TypedAnswer')
    expect(a).toContain('results(): Kv_sub$Results.Reader { return new Kv_sub$Results.Reader(this.answer.results, this.answer.caps); }')
    expect(a).toContain('kv(): KvClient { return new KvClient(this.answer.cap(Kv_sub$Results.P_kv)); }')
    // No capability in get's results: nothing to pipeline on.
    expect(classBody(src, 'Kv_get$Answer')).not.toContain('this.answer.cap(')
  })

  test('Kv: the server base has one abstract method per method and dispatches each with its results size', () => {
    const s = classBody(stubs(KV, 'kv.ts'), 'KvServer')
    expect(s).toContain('export abstract class KvServer extends Server {')
    for (const m of ['get', 'put', 'keys', 'sub']) {
      expect(s).toContain(`abstract ${m}(params: Kv_${m}$Params.Reader, results: Kv_${m}$Results.Builder, call: IncomingCall): void;`)
      expect(s).toContain(`if (methodId == Kv.M_${m}) {`)
      expect(s).toContain(`call.initResults(Kv_${m}$Results.DATA_WORDS, Kv_${m}$Results.POINTER_COUNT)`)
    }
    expect(s).toContain('if (interfaceId == Kv.ID) {')
  })

  test('inheritance: the client and server of LoudEcho include Echo\'s and Named\'s methods under their own ids', () => {
    const src = stubs(FEATURES, 'features.ts')
    const c = classBody(src, 'LoudEchoClient')
    expect(c).toContain('shout(text: string): LoudEcho_shout$Answer')
    expect(c).toContain('ping(): Echo_ping$Answer')
    expect(c).toContain('name(): $imported.Named_name$Answer { return new $imported.Named_name$Answer(startCall(this.cap, $imported.Named.ID, $imported.Named.M_name, $imported.Named_name$Params.DATA_WORDS, $imported.Named_name$Params.POINTER_COUNT).send()); }')
    const s = classBody(src, 'LoudEchoServer')
    for (const id of ['LoudEcho.ID', 'Echo.ID', '$imported.Named.ID']) expect(s).toContain(`if (interfaceId == ${id}) {`)
    expect(s).toContain('abstract name(params: $imported.Named_name$Params.Reader, results: $imported.Named_name$Results.Builder, call: IncomingCall): void;')
    expect(s.indexOf('LoudEcho.ID')).toBeLessThan(s.indexOf('Echo.ID)')) // own methods first
  })

  test('params that are not all simple (a struct) get only the <m>Request() form', () => {
    const c = classBody(stubs(FEATURES, 'features.ts'), 'EchoClient')
    expect(c).toContain('shapeRequest(): Echo_shape$Request')
    expect(c).not.toMatch(/\n {2}shape\(/)
    expect(c).toContain('counter(start: u64): Echo_counter$Answer')
  })

  test('a method returning a named struct pipelines on that struct\'s capability fields', () => {
    const a = classBody(stubs(FEATURES, 'features.ts'), 'Echo_holder$Answer')
    expect(a).toContain('results(): Holder.Reader')
    expect(a).toContain('echo(): EchoClient { return new EchoClient(this.answer.cap(Holder.P_echo)); }')
    expect(a).toContain('named(): $imported.NamedClient { return new $imported.NamedClient(this.answer.cap(Holder.P_named)); }')
  })

  test('struct accessors: defaults as XOR masks, unions set their tag, groups share the struct', () => {
    const src = stubs(FEATURES, 'features.ts')
    expect(src).toContain('getI32(): i32 { return <i32>(this.s.u32(Defaults.F_i32) ^ 0x1e240); }')
    expect(src).toContain('setI32(v: i32): void { this.s.setU32(Defaults.F_i32, (<u32>v) ^ 0x1e240); }')
    expect(src).toContain('getF32(): f32 { return reinterpret<f32>(this.s.u32(Defaults.F_f32) ^ 0x3fc00000); }')
    expect(src).toContain('getB(): bool { return !this.s.bool(Defaults.B_b); }')
    expect(src).toContain('this.s.hasPointer(Defaults.P_text) ? this.s.text(Defaults.P_text) : "default text"')
    expect(src).toMatch(/const \$DEFAULT_0: usize = memory\.data<u8>\(\[/)
    expect(src).toContain('    setCircle(v: f64): void {\n      this.s.setU16(Shape.DISCRIMINANT, Shape.W_circle);')
    expect(src).toContain('getRect(): Shape_rect.Reader { return new Shape_rect.Reader(this.s, this.ctx); }')
    expect(src).toContain('getWidth(): f64 { return this.s.f64(Shape.F_rect_width); }')
    expect(src).toContain('this.s.setU16(Shape.DISCRIMINANT_style_extra, Shape.W_style_extra_note);')
    expect(src).toContain('getEcho(): EchoClient { return new EchoClient(this.ctx.capAt(this.s, Holder.P_echo)); }')
    expect(src).toContain('setEchoCap(v: Cap): void { this.ctx.setCap(this.s, Holder.P_echo, v); }')
    expect(src).toContain('getMoods(): EnumList<Mood>')
    expect(src).toContain('getNested(): ListList<PrimitiveList<i32>>')
    expect(src).toContain('initPoints(n: u32): StructListBuilder<$imported.Point.Builder> { return new StructListBuilder<$imported.Point.Builder>(this.s.initStructList(Lists.P_points, n, $imported.Point.DATA_WORDS, $imported.Point.POINTER_COUNT), this.ctx, null); }')
  })

  test('names AssemblyScript reserves or the generated classes use get a $ suffix', () => {
    const src = stubs(EDGE, 'edge.ts')
    expect(classBody(src, 'OddClient')).toContain('static$(default$: string, type$: u8): Odd_static$Answer')
    expect(classBody(src, 'OddClient')).toContain('cap$(): Odd_cap$Answer')
    expect(classBody(src, 'OddServer')).toContain('abstract dispatch$(')
    expect(classBody(src, 'OddServer')).toContain('abstract cap(')
    const a = classBody(src, 'Odd_static$Answer')
    for (const n of ['wait$', 'dispose$', 'results$']) expect(a).toContain(`${n}(): OddClient`)
  })

  test('a generated name that clashes with a declaration is ERR_UNSUPPORTED', () => {
    const e = errorOf(() => stubs(CLASH, 'clash.ts'))
    expect(e.code).toBe('ERR_UNSUPPORTED')
    expect(e.message).toContain('ClashClient')
    // Constants alone generate no ClashClient: no clash.
    expect(generate(CLASH, { typescript: false, assemblyscript: true }).get('assembly/clash.ts')).toContain('export namespace ClashClient {')
  })

  test('asRpc without assemblyscript is ERR_USAGE; an unmapped import is ERR_UNRESOLVED_IMPORT', () => {
    expect(errorOf(() => generate(KV, { asRpc: true })).code).toBe('ERR_USAGE')
    const opts = { asRpc: true, assemblyscript: true, typescript: false }
    const e = errorOf(() => generate(IMPORTER, opts))
    expect([e.code, e.message]).toEqual(['ERR_UNRESOLVED_IMPORT', expect.stringContaining('imported.capnp')])
    const mapped = generate(IMPORTER, { ...opts, asImportMap: { 'imported.capnp': '../shared/imported' } }).get('assembly/importer.ts')
    expect(mapped).toContain('import * as $imported from "../shared/imported";')
    expect(mapped).toContain('getP(): $imported.Point.Reader')
  })

  test('CLI: --as-rpc and --as-sdk need --as-out, --as-sdk needs --as-rpc, --help lists both', () => {
    expect(parseArgs(['r.bin', '--out', 'o', '--as-out', 'a', '--as-rpc', '--as-sdk', 'x/y'])).toMatchObject({ asRpc: true, asSdk: 'x/y' })
    expect(errorOf(() => parseArgs(['r.bin', '--out', 'o', '--as-rpc'])).code).toBe('ERR_USAGE')
    expect(errorOf(() => parseArgs(['r.bin', '--out', 'o', '--as-out', 'a', '--as-sdk', 'x'])).code).toBe('ERR_USAGE')
    expect(errorOf(() => parseArgs(['r.bin', '--out', 'o', '--as-out', 'a', '--as-rpc', '--as-sdk'])).code).toBe('ERR_USAGE')
    const logs: string[] = []
    main(['--help'], (l) => logs.push(l))
    expect(logs.join('\n')).toMatch(/--as-rpc[\s\S]*--as-sdk <module>[\s\S]*@ww\/guest\/assembly\/index/)
  })
})
