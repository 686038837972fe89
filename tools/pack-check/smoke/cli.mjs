// @ww/cli from its tarball: the installed `ww` bin prints its help, runs a tiny WASI
// module from disk (stdout, exit code), and runs an example guest from @ww/guest that
// uses its Host capability (cluster view, anchors, pubsub).
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { guestPath } from '@ww/guest'

const ww = (...args) => spawnSync('node_modules/.bin/ww', args, { encoding: 'utf8', timeout: 30_000 })

const help = ww('--help')
assert.equal(help.status, 0, help.stderr)
assert.match(help.stdout, /Usage: ww <command>/)

// (module (import wasi fd_write, proc_exit) (memory 1) _start: write "hello from a packed ww\n" to fd 1; proc_exit 3)
writeFileSync('hello.wasm', new Uint8Array([0,97,115,109,1,0,0,0,1,16,3,96,4,127,127,127,127,1,127,96,1,127,0,96,0,0,2,70,2,22,119,97,115,105,95,115,110,97,112,115,104,111,116,95,112,114,101,118,105,101,119,49,8,102,100,95,119,114,105,116,101,0,0,22,119,97,115,105,95,115,110,97,112,115,104,111,116,95,112,114,101,118,105,101,119,49,9,112,114,111,99,95,101,120,105,116,0,1,3,2,1,2,5,3,1,0,1,7,19,2,6,109,101,109,111,114,121,2,0,6,95,115,116,97,114,116,0,2,10,34,1,32,0,65,0,65,192,0,54,2,0,65,4,65,23,54,2,0,65,1,65,0,65,1,65,8,16,0,26,65,3,16,1,11,11,30,1,0,65,192,0,11,23,104,101,108,108,111,32,102,114,111,109,32,97,32,112,97,99,107,101,100,32,119,119,10]))
const hello = ww('run', 'hello.wasm')
assert.equal(hello.status, 3, hello.stderr)
assert.equal(hello.stdout, 'hello from a packed ww\n')

const guest = ww('run', guestPath('wasi-hello-host', { asyncify: false }))
assert.equal(guest.status, 0, guest.stderr)
assert.match(guest.stdout, /^hello from a guest on host /)
assert.match(guest.stdout, /read it back: "hello, anchors"/)
console.log('ok @ww/cli')
