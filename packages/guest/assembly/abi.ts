// The ww guest ABI v1 (packages/transport/ABI.md): imports, the marker export and the
// asyncify data area. A guest's entry file re-exports `ww_abi_v1` and `ww_asyncify_data`
// (`export * from "<sdk>/assembly/exports"`) because AssemblyScript only exports what the
// entry file exports.

/** Hand the frame at [ptr, ptr+len) to the host for the duration of the call. */
@external("ww", "send")
export declare function send(ptr: usize, len: i32): i32;

/** Suspending: wait for the next frame; its length, -needed if cap is too small, 0 when closed. */
@external("ww", "recv")
export declare function recv(ptr: usize, cap: i32): i32;

/** As recv, but never suspends: 0 when nothing is queued. */
@external("ww", "poll")
export declare function poll(ptr: usize, cap: i32): i32;

/**
 * Bytes reserved for asyncify's unwound stack (header included). One suspension saves
 * every live local of every frame between the entry export and `ww.recv`; the SDK's
 * deepest path (entry → wait → recv) needs well under 1 KiB, so 64 KiB leaves room for
 * guests that wait deep inside their own recursion. Overflow traps (asyncify checks end).
 */
export const ASYNCIFY_DATA_SIZE: u32 = 65536;

// Reserved statically (in the data segment, not the heap) so the host may unwind before
// the guest ever allocates, and so the area never moves.
const ASYNCIFY_DATA: usize = memory.data(ASYNCIFY_DATA_SIZE, 16);
// Header { i32 current, i32 end }: the host resets `current` before each unwind; writing
// both here lets a host that only reads the header work too.
store<u32>(ASYNCIFY_DATA, <u32>ASYNCIFY_DATA + 8);
store<u32>(ASYNCIFY_DATA, <u32>ASYNCIFY_DATA + ASYNCIFY_DATA_SIZE, 4);

/** Address of the asyncify data header. */
export function asyncifyData(): usize {
  return ASYNCIFY_DATA;
}
