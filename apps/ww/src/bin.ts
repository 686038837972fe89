#!/usr/bin/env node
import { main } from './cli.js'

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
