#!/usr/bin/env node
// Runs the pinned pnpm without relying on anything installed globally: `npx` fetches it
// from the npm registry once and caches it. (corepack's signature check fails on some
// registries, so it is not used.)
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

const root = new URL('..', import.meta.url)
const { packageManager } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'))
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx'
const result = spawnSync(npx, ['--yes', packageManager, ...process.argv.slice(2)], {
  stdio: 'inherit',
  cwd: process.cwd(),
  env: { ...process.env, npm_config_update_notifier: 'false' },
})
process.exit(result.status ?? 1)
