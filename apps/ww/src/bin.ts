#!/usr/bin/env node
import { main } from './cli.js'

const controller = new AbortController()
// First Ctrl-C asks the running command to stop cleanly; a second one exits at once.
process.once('SIGINT', () => {
  controller.abort(new Error('interrupted'))
  process.once('SIGINT', () => process.exit(130))
})
main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }, controller.signal).then(
  (status) => {
    process.exitCode = status
  },
  (err: unknown) => {
    console.error('ww: internal error:', err)
    process.exitCode = 70
  },
)
