// Test helpers of the CLI's own tests: the kit every ww test uses (`@ww/cli/testing`), plus
// WAT guests written to files.
import { join } from 'node:path'

export * from '../src/testing.js'

/**
 * WAT for test guests. `spin` loops forever but can be preempted: it exports the asyncify
 * data area (ABI.md), so the scheduler can park it between slices and the host stays live.
 */
export const WAT = {
  spin: `(module (memory (export "memory") 1)
    (data (i32.const 1024) "\\08\\04\\00\\00\\00\\14\\00\\00")
    (func (export "ww_asyncify_data") (result i32) (i32.const 1024))
    (func (export "_start") (loop $l (br $l))))`,
  exit3: `(module (memory (export "memory") 1) (func (export "ww_main") (result i32) (i32.const 3)))`,
  /** Traps at once (wasm `unreachable`). */
  trap: `(module (memory (export "memory") 1) (func (export "_start") unreachable))`,
  /** Asks WASI for proc_raise (denied: ENOSYS), then spins like `spin`. */
  deny: `(module (import "wasi_snapshot_preview1" "proc_raise" (func $raise (param i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 1024) "\\08\\04\\00\\00\\00\\14\\00\\00")
    (func (export "ww_asyncify_data") (result i32) (i32.const 1024))
    (func (export "_start") (drop (call $raise (i32.const 2))) (loop $l (br $l))))`,
}

/** Writes each WAT guest as <dir>/<name>.wasm. */
export async function writeGuests(dir: string): Promise<void> {
  const { default: init } = await import('wabt')
  const wabt = await init()
  const { writeFileSync } = await import('node:fs')
  for (const [name, text] of Object.entries(WAT)) {
    const m = wabt.parseWat(`${name}.wat`, text)
    writeFileSync(join(dir, `${name}.wasm`), m.toBinary({}).buffer)
    m.destroy()
  }
}

