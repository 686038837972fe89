// The conformance set (issue 17): small preview1 programs written for this project in C
// (guests/c) and Rust (guests/rust), each run under node:wasi and under our layer (the default policy; a scratch
// grant where the program needs files), outcomes side by side. The README's table is
// generated from these runs (WW_UPDATE_README=1 with the test), and the test fails when
// the two disagree. A difference is listed with why it is by design (NOTES).
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { WASI } from 'node:wasi'
import { createWasi, DEFAULT_POLICY, grant, MemorySink, ProcessExit, type Policy, type ScratchEntry } from '../src/index.js'
import { cGuest, rustGuest } from './guests.js'

export type Language = 'c' | 'rust'
const EXT: Record<Language, string> = { c: 'c', rust: 'rs' }

export interface Program {
  /** guests/<lang>/<name>.<c|rs> */
  readonly name: string
  readonly checks: string
  /** Files the program expects in its scratch dir (/scratch): ours seeds them, node:wasi gets a host dir holding them. */
  readonly scratch?: readonly ScratchEntry[]
}

const SEED: readonly ScratchEntry[] = [
  { path: 'data/in.txt', bytes: new TextEncoder().encode('one two\nthree\n') },
  { path: 'data/sub/deep.bin', bytes: new Uint8Array(300) },
  { path: 'data/b.txt', bytes: new Uint8Array(0) },
]

export const C_PROGRAMS: readonly Program[] = [
  { name: 'startup', checks: 'libc start-up, printf, clocks, random, no environment, stdin at end of file, opening files never granted' },
  { name: 'stdio-poll', checks: '`poll()` on stdin/stdout/stderr with timeouts; `shutdown`/`close`/`read` on fds that are not open and on stdout' },
  {
    name: 'scratch-seed', checks: 'reads input files put in /scratch before start, lists a directory, writes a result',
    scratch: SEED,
  },
]

/** The Rust set (yield and sleep, which need a scheduler, are in @ww/proc's auto-suspend test). */
export const RUST_PROGRAMS: readonly Program[] = [
  { name: 'startup', checks: 'std start-up, `env::args`/`env::vars`, `Instant`/`SystemTime`, `random_get`, opening and writing files never granted, stdin at end of file' },
  { name: 'stdio', checks: 'locked and buffered stdout, stderr, `poll_oneoff` on stdio fds, `read`/`write` on fds that are not open and on stdout' },
  { name: 'scratch', checks: 'reads files put in /scratch before start, `read_dir`, `metadata`, write, rename, `create_dir_all`, remove, a `..` escape', scratch: SEED },
  { name: 'exit', checks: '`process::exit(3)` after a flushed write: proc_exit' },
  { name: 'panic', checks: 'an index out of bounds: the panic message on stderr, then `abort` (a trap, no exit status)' },
]

/** Why a program's outcome differs between the two, by design (keyed by file name). */
export const NOTES: Readonly<Record<string, string>> = {
  'startup.c': 'node:wasi passes argv[0] (as wasmtime does); the default policy passes no arguments at all (`args_*` answer empty): a process gets capabilities, not a command line',
  'stdio-poll.c': 'node:wasi (uvwasi) answers `poll_oneoff` on stdio with `EPERM` and has no `sock_shutdown` (`ENOTSUP` for any fd); ours polls stdio (stdout writable while the sink has room, stdin at end of file readable with `POLLHUP`), and says `EBADF` for an fd that is not open (as wasmtime does) and `ENOTCAPABLE` for stdout used as a socket (open, but outside the policy)',
  'startup.rs': 'node:wasi passes argv[0]; the default policy passes no arguments (`env::args()` is empty). With no preopen covering a path, std fails before any call (no errno), on both',
  'stdio.rs': 'node:wasi (uvwasi) answers `poll_oneoff` on stdio with `EPERM` (63); ours answers it (stdout and stderr writable, stdin at end of file readable)',
}

/** How a run ended (an exit status, or a trap) and what it printed on stdout. */
export interface Outcome { exit: number | 'trap'; stdout: string }

/** A trap ends both runs the same way: a WebAssembly.RuntimeError out of the start function. */
function trapped(e: unknown): 'trap' {
  if (e instanceof WebAssembly.RuntimeError) return 'trap'
  throw e
}

async function ours(bytes: Uint8Array, p: Program): Promise<Outcome> {
  const policy: Policy = p.scratch ? grant(DEFAULT_POLICY, { scratch: { maxBytes: 1 << 20 } }) : DEFAULT_POLICY
  const stdout = new MemorySink(), stderr = new MemorySink()
  const wasi = createWasi(policy, { processId: p.name, sinks: { stdout, stderr }, ...(p.scratch ? { scratchSeed: p.scratch } : {}) })
  const instance = await WebAssembly.instantiate(await WebAssembly.compile(bytes as BufferSource), { wasi_snapshot_preview1: wasi.imports as unknown as WebAssembly.ModuleImports })
  wasi.attach(instance)
  let exit: Outcome['exit'] = 0
  try { (instance.exports._start as () => void)() } catch (e) {
    exit = e instanceof ProcessExit ? e.exitCode : trapped(e)
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
    let exit: Outcome['exit']
    try { exit = wasi.start(instance) } catch (e) { exit = trapped(e) }
    return { exit, stdout: readFileSync(out, 'utf8') }
  } finally {
    for (const fd of [stdin, stdout, stderr]) closeSync(fd)
    rmSync(dir, { recursive: true, force: true })
  }
}

export interface Row { program: Program; file: string; node: Outcome; ww: Outcome }

/** Both outcomes of every program in one language, or null without its toolchain. */
export async function runSet(lang: Language): Promise<Row[] | null> {
  const rows = []
  for (const program of lang === 'c' ? C_PROGRAMS : RUST_PROGRAMS) {
    const bytes = await (lang === 'c' ? cGuest : rustGuest)(program.name)
    if (bytes === null) return null
    rows.push({ program, file: `${program.name}.${EXT[lang]}`, node: await nodeWasi(bytes, program), ww: await ours(bytes, program) })
  }
  return rows
}

const cell = (o: Outcome, other: Outcome): string => {
  const lines = o.stdout.split('\n').filter((l) => l !== '')
  const theirs = new Set(other.stdout.split('\n'))
  const shown = lines.map((l) => (theirs.has(l) ? l : `**${l}**`))
  return [o.exit === 'trap' ? 'trap' : `exit ${o.exit}`, ...shown].map((l) => l.replace(/\|/g, '\\|')).join('<br>')
}

/** The README table: per program, both outcomes (lines only one of them printed in bold) and why they differ. */
export function conformanceMarkdown(lang: Language, rows: readonly Row[]): string {
  const out = [`| program (guests/${lang}) | what it checks | node:wasi | ww (default policy; scratch grant + seed where it needs files) | same? |`, '|---|---|---|---|---|']
  for (const { program, file, node, ww } of rows) {
    const same = node.exit === ww.exit && node.stdout === ww.stdout
    const why = same ? 'yes' : `no — ${NOTES[file] ?? '(unexplained: add a note)'}`
    out.push(`| \`${file}\` | ${program.checks} | ${cell(node, ww)} | ${cell(ww, node)} | ${why} |`)
  }
  return out.join('\n') + '\n'
}
