// The guests the tests run, in WAT (compiled with wabt): each calls the tally plugin's
// imports and exits (WASI proc_exit) with what its last call answered.
import wabtInit from 'wabt'

/** Adds 5 and then 7: exits with the total, 12. */
export const ADDS_TWELVE = `(module
  (import "tally" "add" (func $add (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (drop (call $add (i32.const 5)))
    (call $exit (call $add (i32.const 7)))))`

export async function wasm(source: string): Promise<Uint8Array> {
  const wabt = await wabtInit()
  const m = wabt.parseWat('guest.wat', source)
  try {
    return new Uint8Array(m.toBinary({}).buffer)
  } finally {
    m.destroy()
  }
}
