#!/usr/bin/env node
import * as nodeModule from 'node:module'

// Node 22.1+ can keep the V8 code of every module it compiles on disk, so a later `ww` skips
// compiling them. Before the first import of ww's own modules, hence the dynamic import
// below. The cache lives where Node puts it by default (the OS temp dir, or
// $NODE_COMPILE_CACHE), never in the package, and NODE_DISABLE_COMPILE_CACHE turns it off.
const { enableCompileCache } = nodeModule as { enableCompileCache?: () => unknown }
enableCompileCache?.()
const { main } = await import('./cli.js')

const controller = new AbortController()
// First Ctrl-C (or SIGTERM) asks the running command to stop cleanly; a second one exits at once.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    controller.abort(new Error(sig === 'SIGINT' ? 'interrupted' : 'terminated'))
    process.once(sig, () => process.exit(sig === 'SIGINT' ? 130 : 143))
  })
}
main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env }, controller.signal).then(
  (status) => {
    process.exitCode = status
  },
  (err: unknown) => {
    console.error('ww: internal error:', err)
    process.exitCode = 70
  },
)
