// @ww/wasi-restricted from its tarball: the default policy serves random_get and denies
// path_open on an open fd (stdout) with ENOTCAPABLE, and the audit counts the denial.
import assert from 'node:assert/strict'
import { createWasi, DEFAULT_POLICY, ERRNO, MemorySink } from '@ww/wasi-restricted'

const out = new MemorySink()
const wasi = createWasi(DEFAULT_POLICY, { processId: 'p1', sinks: { stdout: out, stderr: out } })
const memory = new WebAssembly.Memory({ initial: 1 })
wasi.attach(memory)
const bytes = new Uint8Array(memory.buffer)
assert.equal(wasi.imports.random_get(1024, 32), ERRNO.SUCCESS)
assert.ok(bytes.subarray(1024, 1056).some((b) => b !== 0), 'random_get wrote nothing')
bytes.set(new TextEncoder().encode('/etc/passwd'), 2048)
// path_open(fd, dirflags, path, path_len, oflags, rights_base, rights_inheriting, fdflags, opened_fd)
assert.equal(wasi.imports.path_open(1, 0, 2048, 11, 0, 0n, 0n, 0, 4096), ERRNO.ENOTCAPABLE)
assert.equal(wasi.imports.path_open(3, 0, 2048, 11, 0, 0n, 0n, 0, 4096), ERRNO.EBADF) // not open: not a denial
assert.equal(wasi.audit().byFunction.path_open, 1)
wasi.close()
console.log('ok @ww/wasi-restricted')
