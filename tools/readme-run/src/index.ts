// A README example is code: this finds a README's TypeScript/JavaScript blocks, typechecks
// them together against the package as a user would import it (its name resolves to its
// own build through the exports map), then runs each in its own Node process.
//
// Conventions in the markdown:
// - every ```ts / ```js block runs, unless the line before its fence is
//   `<!-- fragment: why -->` (an excerpt, AssemblyScript, a signature table…);
// - a ```text block right after a runnable block is the stdout it must print;
// - the README's install line (`npm i …`) comes before its first `##` section.
import { execFile } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import ts from 'typescript'

export interface ReadmeBlock {
  /** the fence's language: ts, js, text, sh… */
  lang: string
  code: string
  /** 1-based line of the opening fence */
  line: number
  /** the reason given by a `<!-- fragment: … -->` marker, if any */
  fragment?: string
  /** the stdout a following ```text block says the example prints */
  prints?: string
}

export class ReadmeExampleError extends Error {
  readonly code = 'ERR_README_EXAMPLE'
  constructor(message: string, readonly line: number) {
    super(message)
    this.name = 'ReadmeExampleError'
  }
}

const FENCE = /^```(\w*)\s*$/
const FRAGMENT = /^<!--\s*fragment(?::\s*(.*?))?\s*-->\s*$/
const RUNNABLE = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs'])

/** Every fenced block of `markdown`, in order, with its markers resolved. */
export function readmeBlocks(markdown: string): ReadmeBlock[] {
  const lines = markdown.split('\n')
  const blocks: ReadmeBlock[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!)
    if (!open) continue
    const start = i
    const body: string[] = []
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!)
    if (i === lines.length) throw new ReadmeExampleError(`the code block opened at line ${start + 1} is never closed`, start + 1)
    const marker = start > 0 ? FRAGMENT.exec(lines[start - 1]!) : null
    const block: ReadmeBlock = { lang: open[1]!, code: body.join('\n') + '\n', line: start + 1 }
    if (marker) block.fragment = marker[1] ?? 'marked as a fragment'
    const previous = blocks.at(-1)
    if (block.lang === 'text' && previous && isRunnable(previous) && lines.slice(afterBlock(previous), start).every((l) => l.trim() === '')) {
      previous.prints = block.code
    }
    blocks.push(block)
  }
  return blocks
}

/** The 0-based index of the line after a block's closing fence. */
function afterBlock(block: ReadmeBlock): number {
  return block.line + block.code.split('\n').length
}

export function isRunnable(block: ReadmeBlock): boolean {
  return RUNNABLE.has(block.lang) && block.fragment === undefined
}

/** The install command a README opens with (`npm i …` before its first section), or undefined. */
export function installLine(markdown: string): string | undefined {
  const lines = markdown.split('\n')
  const firstSection = lines.findIndex((l, i) => i > 0 && /^## /.test(l))
  const head = lines.slice(0, firstSection === -1 ? lines.length : firstSection)
  return head.map((l) => l.replace(/^\s*(\$\s+)?/, '')).find((l) => /^npm i(nstall)? /.test(l))
}

export interface CheckOptions {
  /** the package directory: examples are written there so its own name resolves to its build */
  packageDir: string
  /** where examples run (default: the package directory); a README that reads files names them from here */
  cwd?: string
  /** per example; a hang bound, not a speed one */
  timeoutMs?: number
  signal?: AbortSignal
}

/**
 * Typechecks the runnable blocks together (strict, NodeNext, the repository's settings)
 * and throws a ReadmeExampleError naming the block and the diagnostic.
 */
export function typecheckBlocks(blocks: ReadmeBlock[], options: CheckOptions): void {
  const dir = scratchDir(options.packageDir)
  try {
    const files = blocks.filter(isRunnable).map((b) => {
      const file = join(dir, `line-${b.line}.${b.lang.startsWith('j') || b.lang === 'mjs' ? 'mjs' : 'mts'}`)
      writeFileSync(file, b.code)
      return { file, block: b }
    })
    const program = ts.createProgram(files.map((f) => f.file), {
      target: ts.ScriptTarget.ES2022,
      lib: ['lib.es2023.d.ts', 'lib.dom.d.ts', 'lib.esnext.disposable.d.ts'],
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      allowJs: true,
      checkJs: false,
      types: ['node'],
    })
    for (const d of ts.getPreEmitDiagnostics(program)) {
      const owner = files.find((f) => f.file === d.file?.fileName)
      if (!owner) continue // a library's own declarations: not the README's to answer for
      const at = d.start !== undefined ? d.file!.getLineAndCharacterOfPosition(d.start).line : 0
      const text = ts.flattenDiagnosticMessageText(d.messageText, '\n')
      throw new ReadmeExampleError(`README line ${owner.block.line + 1 + at}: ${text}`, owner.block.line)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Runs one block as an ES module in a fresh Node process; resolves with its stdout. */
export async function runBlock(block: ReadmeBlock, options: CheckOptions): Promise<string> {
  const dir = scratchDir(options.packageDir)
  const file = join(dir, `line-${block.line}.mjs`)
  const js = RUNNABLE.has(block.lang) && block.lang.startsWith('t')
    ? ts.transpileModule(block.code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText
    : block.code
  writeFileSync(file, js)
  try {
    return await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--no-warnings', file], { cwd: options.cwd ?? options.packageDir, timeout: options.timeoutMs ?? 60_000, signal: options.signal }, (e, stdout, stderr) => {
        if (e) reject(new ReadmeExampleError(`the example at README line ${block.line} failed: ${e.message}${e.message.includes(stderr) ? "" : `\n${stderr}`}`, block.line))
        else resolve(stdout)
      })
    })
  } finally {
    rmSync(file, { force: true })
  }
}

function scratchDir(packageDir: string): string {
  // Inside the package (not the system tmp dir) so that `import '@ww/x'` finds the package
  // itself and its dependencies exactly as a user's project would.
  const dir = join(packageDir, '.readme-examples')
  mkdirSync(dir, { recursive: true })
  return dir
}
