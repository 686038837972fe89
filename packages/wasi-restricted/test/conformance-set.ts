// The conformance set (issue 17): small preview1 programs written for this project in C
// (guests/c), each run under node:wasi and under our layer (the default policy; a scratch
// grant where the program needs files), outcomes side by side. The README's table is
// generated from these runs (WW_UPDATE_README=1 with the test), and the test fails when
// the two disagree. A difference is listed with why it is by design (NOTES).
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { WASI } from 'node:wasi'
import { createWasi, DEFAULT_POLICY, grant, MemorySink, ProcessExit, type Policy, type ScratchEntry } from '../src/index.js'
import { cGuest } from './guests.js'

export interface Program {
  /** guests/c/<name>.c */
  readonly name: string
  readonly checks: string
  /** Files the program expects in its scratch dir (/scratch): ours seeds them, node:wasi gets a host dir holding them. */
  readonly scratch?: readonly ScratchEntry[]
}

export const PROGRAMS: readonly Program[] = [
  { name: 'startup', checks: 'libc start-up, printf, clocks, random, no environment, stdin at end of file, opening files never granted' },
  { name: 'stdio-poll', checks: '`poll()` on stdin/stdout/stderr with timeouts; `shutdown`/`close`/`read` on fds that are not open and on stdout' },
  {
    name: 'scratch-seed', checks: 'reads input files put in /scratch before start, lists a directory, writes a result',
    scratch: [
      { path: 'data/in.txt', bytes: new TextEncoder().encode('one two\nthree\n') },
      { path: 'data/sub/deep.bin', bytes: new Uint8Array(300) },
      { path: 'data/b.txt', bytes: new Uint8Array(0) },
    ],
  },
]

/** Why a program's outcome differs between the two, by design. */
export const NOTES: Readonly<Record<string, string>> = {
  startup: 'node:wasi passes argv[0] (as wasmtime does); the default policy passes no arguments at all (`args_*` answer empty): a process gets capabilities, not a command line',
  'stdio-poll': 'node:wasi (uvwasi) answers `poll_oneoff` on stdio with `EPERM` and has no `sock_shutdown` (`ENOTSUP` for any fd); ours polls stdio (stdout writable while the sink has room, stdin at end of file readable with `POLLHUP`), and says `EBADF` for an fd that is not open (as wasmtime does) and `ENOTCAPABLE` for stdout used as a socket (open, but outside the policy)',
}

export interface Outcome { exit: number; stdout: string }

async function ours(bytes: Uint8Array, p: Program): Promise<Outcome> {
  const policy: Policy = p.scratch ? grant(DEFAULT_POLICY, { scratch: { maxBytes: 1 << 20 } }) : DEFAULT_POLICY
  const stdout = new MemorySink(), stderr = new MemorySink()
  const wasi = createWasi(policy, { processId: p.name, sinks: { stdout, stderr }, ...(p.scratch ? { scratchSeed: p.scratch } : {}) })
  const instance = await WebAssembly.instantiate(await WebAssembly.compile(bytes as BufferSource), { wasi_snapshot_preview1: wasi.imports as unknown as WebAssembly.ModuleImports })
  wasi.attach(instance)
  let exit = 0
  try { (instance.exports._start as () => void)() } catch (e) {
    if (!(e instanceof ProcessExit)) throw e
    exit = e.exitCode
  } finally { wasi.close() }
  return { exit, stdout: stdout.text(1) }
}

async function nodeWasi(bytes: Uint8Array, p: Program): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'ww-conformance-'))
  const scratch = join(dir, 'scratch')
  mkdirSync(scratch)
  for (const e of p.scratch ?? []) {
    const at = join(scratch, e.path)
    mkdirSync(dirname(at), { recursive: true })
    if ('bytes' in e) writeFileSync(at, e.bytes)
    else if ('dir' in e) mkdirSync(at, { recursive: true })
  }
  const out = join(dir, 'stdout')
  const [stdin, stdout, stderr] = [openSync('/dev/null', 'r'), openSync(out, 'w'), openSync('/dev/null', 'w')]
  try {
    // argv[0] as other runtimes pass it (node:wasi with no args at all ends wasi-libc's start-up: exit 71).
    const wasi = new WASI({ version: 'preview1', args: [p.name], env: {}, stdin, stdout, stderr, returnOnExit: true, ...(p.scratch ? { preopens: { '/scratch': scratch } } : {}) })
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(bytes as BufferSource), wasi.getImportObject() as WebAssembly.Imports)
    const exit = wasi.start(instance)
    return { exit, stdout: readFileSync(out, 'utf8') }
  } finally {
    for (const fd of [stdin, stdout, stderr]) closeSync(fd)
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Both outcomes of every program, or null without a C toolchain. */
export async function runSet(): Promise<Array<{ program: Program; node: Outcome; ww: Outcome }> | null> {
  const rows = []
  for (const program of PROGRAMS) {
    const bytes = await cGuest(program.name)
    if (bytes === null) return null
    rows.push({ program, node: await nodeWasi(bytes, program), ww: await ours(bytes, program) })
  }
  return rows
}

const cell = (o: Outcome, other: Outcome): string => {
  const lines = o.stdout.split('\n').filter((l) => l !== '')
  const theirs = new Set(other.stdout.split('\n'))
  const shown = lines.map((l) => (theirs.has(l) ? l : `**${l}**`))
  return [`exit ${o.exit}`, ...shown].map((l) => l.replace(/\|/g, '\\|')).join('<br>')
}

/** The README table: per program, both outcomes (lines only one of them printed in bold) and why they differ. */
export function conformanceMarkdown(rows: NonNullable<Awaited<ReturnType<typeof runSet>>>): string {
  const out = ['| program (guests/c) | what it checks | node:wasi | ww (default policy; scratch grant + seed where it needs files) | same? |', '|---|---|---|---|---|']
  for (const { program, node, ww } of rows) {
    const same = node.exit === ww.exit && node.stdout === ww.stdout
    const why = same ? 'yes' : `no — ${NOTES[program.name] ?? '(unexplained: add a note)'}`
    out.push(`| \`${program.name}.c\` | ${program.checks} | ${cell(node, ww)} | ${cell(ww, node)} | ${why} |`)
  }
  return out.join('\n') + '\n'
}
