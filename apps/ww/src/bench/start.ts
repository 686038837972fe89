// ww.start.*: how long the `ww` command takes to start, per command, in ms of wall time from
// spawn to exit (to the ready line for `ww host`); baseline: `node -e 0` in the same run,
// interleaved. The CPU each took (user + system, from the kernel's count for reaped
// children, Linux only) is in params: on a shared machine it is the steadier figure.
// - ww.start.help: `ww --help` (loads no command module)
// - ww.start.run: `ww run` of a module that returns at once (the embedded host, the
//   scheduler, the restricted WASI and the guest's compile)
// - ww.start.host: `ww host --json` until its ready record (then SIGTERM)
// `node dist/bench/start.js` runs it.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as nodeModule from 'node:module'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { median, report } from '@ww/bench-kit'

const bin = fileURLToPath(new URL('../bin.js', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'ww-bench-start-'))
// (module (memory (export "memory") 1) (func (export "_start"))): exits 0 at once.
const wasm = join(dir, 'empty.wasm')
writeFileSync(wasm, Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type: () -> ()
  0x03, 0x02, 0x01, 0x00, // func 0: type 0
  0x05, 0x03, 0x01, 0x00, 0x01, // memory: min 1
  0x07, 0x13, 0x02, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x06, 0x5f, 0x73, 0x74, 0x61, 0x72, 0x74, 0x00, 0x00, // export memory, _start
  0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b, // code: empty body
]))
// Each run's instrumented-module cache is this one, warm after the warm-up: what a user's
// second `ww run` of a module costs.
const env = { ...process.env, NO_COLOR: '1', WW_HOME: join(dir, 'home'), WW_CACHE: join(dir, 'cache') }

/** CPU ms used by this process's reaped children so far (Linux), else undefined. */
function childrenCpuMs(): number | undefined {
  try {
    // Fields after the ")" that ends the command name: cutime and cstime are the 14th and 15th.
    const stat = readFileSync('/proc/self/stat', 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(f[13]) + Number(f[14])) * 10 // USER_HZ is 100 on Linux
  } catch {
    return undefined
  }
}

interface Sample { wallMs: number; cpuMs?: number }

/** Spawns `node args`, resolves when `done(child)` says it is over; the child is always reaped. */
function timed(args: string[], ready?: string): Promise<Sample> {
  const cpu0 = childrenCpuMs()
  const t0 = performance.now()
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'ignore'] })
  let wallMs: number | undefined
  if (ready) {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      if (wallMs === undefined && l.includes(ready)) { wallMs = performance.now() - t0; child.kill('SIGTERM') }
    })
  } else child.stdout!.resume()
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      if (!ready && code !== 0) return reject(new Error(`node ${args.join(' ')} exited ${code}`))
      if (ready && wallMs === undefined) return reject(new Error(`node ${args.join(' ')} exited ${code} before "${ready}"`))
      const cpu1 = childrenCpuMs()
      resolve({ wallMs: wallMs ?? performance.now() - t0, ...(cpu0 !== undefined && cpu1 !== undefined ? { cpuMs: cpu1 - cpu0 } : {}) })
    })
  })
}

const cases: Record<string, { args: string[]; ready?: string }> = {
  node: { args: ['-e', '0'] },
  help: { args: [bin, '--help'] },
  run: { args: [bin, 'run', wasm] },
  host: { args: [bin, 'host', '--json'], ready: '"event":"ready"' },
}
const samples = new Map<string, Sample[]>(Object.keys(cases).map((k) => [k, []]))
const RUNS = 7
for (let i = -1; i < RUNS; i++) {
  for (const [name, c] of Object.entries(cases)) {
    const s = await timed(c.args, c.ready)
    if (i >= 0) samples.get(name)!.push(s) // i = -1: warm-up (file cache, instrumented-module cache)
  }
}

const wall = (name: string): number[] => samples.get(name)!.map((s) => s.wallMs)
const cpu = (name: string): number | undefined => {
  const xs = samples.get(name)!.map((s) => s.cpuMs)
  return xs.every((x) => x !== undefined) ? median(xs as number[]) : undefined
}
const what = { help: 'ww --help', run: 'ww run empty.wasm (exits 0 at once)', host: 'ww host --json until ready' }
for (const name of ['help', 'run', 'host'] as const) {
  report({
    name: `ww.start.${name}`, unit: 'ms', samples: wall(name),
    baseline: { name: 'node -e 0', samples: wall('node') },
    params: { command: what[name], cpuMs: cpu(name), baselineCpuMs: cpu('node'), compileCache: 'enableCompileCache' in nodeModule && !process.env.NODE_DISABLE_COMPILE_CACHE },
  })
}
rmSync(dir, { recursive: true, force: true })
