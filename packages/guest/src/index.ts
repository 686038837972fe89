// @ww/guest: where the example guests built from this package's AssemblyScript SDK are.
// Paths resolve relative to this file, so they hold when the package is installed from
// npm (build/*.wasm ships in `files`).

import { readFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { SUSPENDING_IMPORTS } from '@ww/wasi-restricted'

/** The example guests `scripts/build.mjs` builds (guests/<name>.ts). */
export const guestNames = ['echo-client', 'echo-errors', 'wasi-echo-client', 'wasi-hello-host', 'conformance', 'wasi-demo-wordcount', 'wasi-http-server', 'wasi-http-get', 'wasi-dial-check', 'wasi-caps-demo', 'wasi-abort', 'serve-echo', 'wasi-serve-echo', 'call-loop', 'wasi-listen', 'wasi-delegate'] as const
export type GuestName = (typeof guestNames)[number]

export interface GuestOptions {
  /**
   * `true` (default): the asyncify-instrumented module (runs on Node 20, and under JSPI).
   * `false`: the module before asyncify (JSPI only; smaller and faster).
   */
  asyncify?: boolean
}

/** Imports that may suspend, per flavour, as the build instrumented them. */
export const asyncifyImports: { readonly plain: readonly string[]; readonly wasi: readonly string[] } = {
  plain: ['ww.recv'],
  // Every call the restricted WASI layer may suspend in (the build uses this same list).
  wasi: ['ww.recv', ...SUSPENDING_IMPORTS.map((f) => `wasi_snapshot_preview1.${f}`)],
}

export class GuestNotBuiltError extends Error {
  readonly code = 'ERR_GUEST_NOT_BUILT'
  constructor(readonly path: string) {
    super(`guest not built: ${path} (run the @ww/guest build)`)
    this.name = 'GuestNotBuiltError'
  }
}

/** Absolute path of a built guest module. */
export function guestPath(name: GuestName, opts: GuestOptions = {}): string {
  const rel = opts.asyncify === false ? `../build/raw/${name}.wasm` : `../build/${name}.wasm`
  return fileURLToPath(new URL(rel, import.meta.url))
}

/** The bytes of a built guest module. */
export async function guestBytes(name: GuestName, opts: GuestOptions = {}): Promise<Uint8Array<ArrayBuffer>> {
  const path = guestPath(name, opts)
  if (!existsSync(path)) throw new GuestNotBuiltError(path)
  return new Uint8Array(await readFile(path))
}

/** Guests whose flavour is WASI (they import wasi_snapshot_preview1 for fd_write). */
export function isWasiGuest(name: GuestName): boolean {
  return name.startsWith('wasi-')
}
