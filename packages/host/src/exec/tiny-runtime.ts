// A small Runtime for @ww/host's own tests, benchmarks and test host processes: it
// instantiates the module with WebAssembly and runs its `_start` export. It is NOT the
// production runtime — no metering, no WASI, no Host capability for the guest, no
// preemption (a module that loops forever blocks the thread): @ww/proc's `procRuntime`
// is that one, and @ww/host cannot depend on @ww/proc (it depends on us).
//
// The contract of a "tiny" module (tinyModule() below builds them):
// - `_start` returns an i32: the exit code (a function returning nothing exits 0);
// - a trap is `trapped` with the engine's message;
// - a module that called the import `ww_test.park()` stays alive after `_start` returns,
//   as a server would, until it is killed.

import { trapField, trapKindOf } from '@ww/interface'
import type { ExitStatus, RunningProcess, Runtime } from './types.js'

export function tinyRuntime(): Runtime {
  return {
    async start(spec): Promise<RunningProcess> {
      // Small modules compile synchronously: V8's async compile hands its result back
      // through a platform task, which measured ≈0.7 ms late on a busy event loop.
      const small = spec.bytecode.byteLength <= 64 * 1024
      const mod = small ? new WebAssembly.Module(spec.bytecode as Uint8Array<ArrayBuffer>) : await WebAssembly.compile(spec.bytecode as Uint8Array<ArrayBuffer>)
      let parked = false
      const imports: WebAssembly.Imports = {}
      for (const imp of WebAssembly.Module.imports(mod)) {
        if (imp.module === 'ww_test' && imp.name === 'park' && imp.kind === 'function') imports.ww_test = { park: () => { parked = true } }
        else throw new WebAssembly.LinkError(`import ${imp.module}.${imp.name} is not offered`)
      }
      // A missing import fails here, before the process counts as started.
      const instance = small ? new WebAssembly.Instance(mod, imports) : await WebAssembly.instantiate(mod, imports)
      let settle!: (s: ExitStatus) => void
      const exited = new Promise<ExitStatus>((r) => { settle = r })
      let done = false
      const end = (s: ExitStatus): void => { if (!done) { done = true; settle(s) } }
      // Runs after start() has returned, as a scheduler would.
      setImmediate(() => {
        if (done) return
        const entry = instance.exports._start
        if (typeof entry !== 'function') { end({ kind: 'trapped', reason: 'no _start export' }); return }
        try {
          const v: unknown = (entry as () => unknown)()
          if (!parked) end({ kind: 'exited', code: typeof v === 'number' ? v >>> 0 : 0 })
        } catch (e) {
          end({ kind: 'trapped', reason: e instanceof Error ? e.message : String(e), ...trapField(trapKindOf(e)) })
        }
      })
      return { exited, kill: () => end({ kind: 'killed' }) }
    },
  }
}

/** What a tiny module does when started. */
export type TinyBehaviour = { exit: number } | { park: true } | { trap: true }

/**
 * Builds a minimal valid module for tinyRuntime: `_start` exits with a code, parks, or
 * traps (`unreachable`). Hand-encoded (a few dozen bytes), so no assembler is needed.
 */
export function tinyModule(b: TinyBehaviour): Uint8Array {
  const park = 'park' in b
  const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()]
  const str = (s: string): number[] => [...uleb(s.length), ...new TextEncoder().encode(s)]
  const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body]
  const types = vec([[0x60, 0, 0], [0x60, 0, 1, 0x7f]])
  const imports = vec([[...str('ww_test'), ...str('park'), 0x00, 0]])
  const body = 'trap' in b ? [0x00] : [...(park ? [0x10, 0] : []), 0x41, ...sleb(park ? 0 : b.exit)]
  const code = vec([[...uleb(body.length + 2), 0, ...body, 0x0b]])
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, types),
    ...(park ? section(2, imports) : []),
    ...section(3, vec([[1]])),
    ...section(7, vec([[...str('_start'), 0x00, park ? 1 : 0]])),
    ...section(10, code),
  ])
}

function uleb(n: number): number[] {
  const out: number[] = []
  do { let byte = n & 0x7f; n >>>= 7; if (n !== 0) byte |= 0x80; out.push(byte) } while (n !== 0)
  return out
}

function sleb(n: number): number[] {
  const out: number[] = []
  for (;;) {
    const byte = n & 0x7f
    n >>= 7
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) { out.push(byte); return out }
    out.push(byte | 0x80)
  }
}
