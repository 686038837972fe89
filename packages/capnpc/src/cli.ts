#!/usr/bin/env node
// ww-capnpc <request.bin> --out <dir> [--as-out <dir> [--as-rpc] [--as-sdk <module>]] [--index] [--check]
//
// Reads a CodeGeneratorRequest saved from `capnp compile -o- …` and writes one .ts file
// per requested schema under --out (and, with --as-out, the AssemblyScript constants
// modules there, RPC stubs too with --as-rpc; --index adds an index.ts re-exporting every module). --check writes nothing: it lists the stale files and exits 1.

import { readFileSync, realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { findStale, writeFiles } from './check.js'
import { CapnpcError } from './errors.js'
import { AS_DIR, generate } from './generate.js'

export interface CliArgs {
  request: string
  out: string
  asOut: string | undefined
  /** AssemblyScript RPC stubs, not only constants. */
  asRpc: boolean
  /** The module the stubs import the guest SDK from. */
  asSdk: string | undefined
  check: boolean
  index: boolean
}

const USAGE = 'usage: ww-capnpc <request.bin> --out <dir> [--as-out <dir> [--as-rpc] [--as-sdk <module>]] [--index] [--check]'

const HELP = `ww-capnpc — Cap'n Proto to TypeScript (capnp-ts) generator, from a saved compile request

${USAGE}

  <request.bin>     a CodeGeneratorRequest, saved with: capnp compile -o- schema.capnp > request.bin
  --out <dir>       where the .ts modules go (one per requested schema)
  --as-out <dir>    also write AssemblyScript constants modules there
  --as-rpc          make those modules RPC stubs too: struct readers and builders,
                    interface clients, typed answers and server bases
  --as-sdk <module> the module the stubs import the guest SDK from
                    (default @ww/guest/assembly/index; a relative path works too)
  --index           add an index.ts re-exporting every module
  --check           write nothing; list stale files and exit 1 if any

Exit status: 0 done (or nothing stale), 1 stale files (--check), 2 usage error.`

export function parseArgs(argv: string[]): CliArgs {
  let request: string | undefined
  let out: string | undefined
  let asOut: string | undefined
  let check = false
  let index = false
  let asRpc = false
  let asSdk: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--check') check = true
    else if (a === '--index') index = true
    else if (a === '--as-rpc') asRpc = true
    else if (a === '--as-sdk') {
      asSdk = argv[++i]
      if (asSdk === undefined) throw new CapnpcError('ERR_USAGE', `--as-sdk needs a module\n${USAGE}`)
    }
    else if (a === '--out' || a === '--as-out') {
      const v = argv[++i]
      if (v === undefined) throw new CapnpcError('ERR_USAGE', `${a} needs a directory\n${USAGE}`)
      if (a === '--out') out = v
      else asOut = v
    } else if (a !== undefined && !a.startsWith('--') && request === undefined) request = a
    else throw new CapnpcError('ERR_USAGE', `unexpected argument ${a}\n${USAGE}`)
  }
  if (request === undefined || out === undefined) throw new CapnpcError('ERR_USAGE', USAGE)
  if ((asRpc || asSdk !== undefined) && asOut === undefined) throw new CapnpcError('ERR_USAGE', `--as-rpc and --as-sdk need --as-out\n${USAGE}`)
  if (asSdk !== undefined && !asRpc) throw new CapnpcError('ERR_USAGE', `--as-sdk is for --as-rpc stubs\n${USAGE}`)
  return { request, out, asOut, asRpc, asSdk, check, index }
}

/** Runs the CLI; returns the exit code. */
export function main(argv: string[], log: (line: string) => void = console.log): number {
  if (argv.includes('--help') || argv.includes('-h')) { log(HELP); return 0 }
  const args = parseArgs(argv)
  const all = generate(readFileSync(args.request), {
    assemblyscript: args.asOut !== undefined, asRpc: args.asRpc, asSdk: args.asSdk, indexModule: args.index,
  })
  const ts = new Map<string, string>()
  const as = new Map<string, string>()
  for (const [path, src] of all) {
    if (path.startsWith(AS_DIR + '/')) as.set(path.slice(AS_DIR.length + 1), src)
    else ts.set(path, src)
  }
  const targets: [Map<string, string>, string][] = [[ts, args.out]]
  if (args.asOut !== undefined) targets.push([as, args.asOut])
  if (args.check) {
    const stale = targets.flatMap(([files, dir]) => findStale(files, dir).map((s) => `${dir}/${s.path} (${s.reason})`))
    for (const s of stale) log(`stale: ${s}`)
    if (stale.length > 0) log('regenerate: ww-capnpc ' + argv.filter((a) => a !== '--check').join(' '))
    return stale.length === 0 ? 0 : 1
  }
  for (const [files, dir] of targets) for (const p of writeFiles(files, dir)) log(`wrote ${p}`)
  return 0
}

// Run when executed as the bin, not when imported by tests. An installed bin is started
// through a symlink (node_modules/.bin/ww-capnpc), so compare real paths.
if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main(process.argv.slice(2))
  } catch (err) {
    if (err instanceof CapnpcError) {
      console.error(`ww-capnpc: ${err.code}: ${err.message}`)
      process.exitCode = 2
    } else throw err
  }
}
