// Test harness: one process's WASI over a bare 1-page memory, with helpers to lay out
// arguments and to prove a failing call left memory untouched.
import {
  createWasi, DEFAULT_POLICY, MemorySink, ERRNO, errnoName,
  type Policy, type Preview1Function, type SuspendingImport, type WasiOptions,
} from '../src/index.js'

export const PAGE = 65536
export { ERRNO }

export function setup(policy: Policy = DEFAULT_POLICY, opts: Partial<WasiOptions> = {}) {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 8 })
  const stdout = new MemorySink(), stderr = new MemorySink()
  const wasi = createWasi(policy, { processId: 'p1', sinks: { stdout, stderr }, ...opts })
  wasi.attach(memory)
  const u8 = (): Uint8Array => new Uint8Array(memory.buffer)
  const dv = (): DataView => new DataView(memory.buffer)
  const call = (fn: Preview1Function, ...args: Array<number | bigint>): number =>
    (wasi.imports[fn] as unknown as (...a: unknown[]) => number)(...args)
  const callAsync = (fn: Preview1Function, ...args: Array<number | bigint>): number | Promise<number> =>
    (wasi.imports[fn] as unknown as (...a: unknown[]) => number | Promise<number>)(...args)
  /** Writes `s` (UTF-8) at `ptr`; returns [ptr, len]. */
  const str = (ptr: number, s: string): [number, number] => {
    const b = new TextEncoder().encode(s)
    u8().set(b, ptr)
    return [ptr, b.length]
  }
  const read = (ptr: number, len: number): string => Buffer.from(u8().subarray(ptr, ptr + len)).toString()
  /** Writes an iovec array at `at` for the given (ptr, len) pairs. */
  const iovs = (at: number, parts: Array<[number, number]>): [number, number] => {
    parts.forEach(([p, l], i) => { dv().setUint32(at + i * 8, p, true); dv().setUint32(at + i * 8 + 4, l, true) })
    return [at, parts.length]
  }
  const u32 = (ptr: number): number => dv().getUint32(ptr, true)
  const u64 = (ptr: number): bigint => dv().getBigUint64(ptr, true)
  /** Runs `f` and asserts it returned `errno` and that guest memory is byte-for-byte unchanged. */
  const fails = (errno: number, f: () => number): void => {
    const before = u8().slice()
    const r = f()
    expect(errnoName(r)).toBe(errnoName(errno))
    expect(Buffer.compare(Buffer.from(u8()), Buffer.from(before))).toBe(0)
  }
  const ok = (r: number): void => { expect(errnoName(r)).toBe('SUCCESS') }
  return { wasi, memory, stdout, stderr, u8, dv, call, callAsync, str, read, iovs, u32, u64, fails, ok }
}

export type Harness = ReturnType<typeof setup>

/** Pointers a hostile guest passes: at and past the end, and near 2^32 (wrap-around). */
export const HOSTILE_PTRS = [PAGE - 1, PAGE, 0xfffffff0, -1] as const

/** A suspension hook that hands the promise straight back, so a test can await what a guest would wait for. */
export const passThrough = (fn: SuspendingImport) => fn as (...a: number[]) => number
