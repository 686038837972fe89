import { parseArgs } from 'node:util'
import { createRequire } from 'node:module'
import type { Command, Io } from './command.js'
import { UsageError } from './command.js'
import { PluginError } from '@ww/interface'
import { commands } from './commands/index.js'
import { CliError } from './errors.js'

const version = (createRequire(import.meta.url)('../package.json') as { version: string }).version

/** Runs `ww <argv…>` and returns the exit status. */
export async function main(argv: string[], io: Io, signal: AbortSignal = new AbortController().signal): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' ? rest[0] : undefined
    const entry = topic === undefined ? undefined : commands.find((c) => c.name === topic)
    io.stdout.write(entry ? commandHelp(await entry.load()) : overview())
    return 0
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    io.stdout.write(`ww ${version} (node ${process.version})\n`)
    return 0
  }
  const entry = commands.find((c) => c.name === name)
  if (!entry) {
    io.stderr.write(`ww: unknown command '${name}'\n${suggest(name)}Run 'ww --help' for the list of commands.\n`)
    return 2
  }
  const command = await entry.load()
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(commandHelp(command))
    return 0
  }
  try {
    const parsed = parseArgs({ args: fillOptionalValues(rest, command), options: command.options, allowPositionals: true, strict: true })
    return await command.run(parsed, io, signal)
  } catch (err) {
    return reportError(err, command, io)
  }
}

function reportError(err: unknown, command: Command, io: Io): number {
  if (err instanceof UsageError) {
    io.stderr.write(`ww ${command.name}: ${err.message}\n${err.hint ? `  ${err.hint}\n` : ''}`)
    return 2
  }
  // A --plugin that cannot be loaded is a bad argument: nothing was started.
  if (err instanceof PluginError) {
    io.stderr.write(`ww ${command.name}: ${err.code}: ${err.message}\n`)
    return 2
  }
  // parseArgs' own errors carry codes like ERR_PARSE_ARGS_UNKNOWN_OPTION.
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
    io.stderr.write(`ww ${command.name}: ${(err as Error).message}\nRun 'ww ${command.name} --help' for its options.\n`)
    return 2
  }
  const message = err instanceof Error ? err.message : String(err)
  // CliErrors say what happened in words; their code is for scripts, not repeated here.
  const shown = err instanceof CliError || typeof code !== 'string' ? message : `${code}: ${message}`
  const hint = err instanceof CliError && err.hint ? `  ${err.hint}\n` : ''
  io.stderr.write(`ww ${command.name}: ${shown}\n${hint}`)
  return 1
}

/** `--ui` with no value (end of args, or another option next) gets the command's default. */
function fillOptionalValues(args: string[], command: Command): string[] {
  const defaults = command.optionalValues
  if (!defaults) return args
  const out: string[] = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    out.push(a)
    const name = a.startsWith('--') ? a.slice(2) : undefined
    if (name !== undefined && name in defaults) {
      const next = args[i + 1]
      if (next === undefined || next.startsWith('-')) out.push(defaults[name]!)
    }
  }
  return out
}

/** From the command table alone: `ww --help` loads no command's module. */
function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length))
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`)
  return [
    `ww ${version} — run untrusted WebAssembly as capability-secure processes`,
    '',
    'Usage: ww <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    "Run 'ww <command> --help' for a command's options.",
    '',
  ].join('\n')
}

export function commandHelp(c: Command): string {
  const names = Object.keys(c.options)
  const flag = (n: string): string => {
    const o = c.options[n]!
    const short = o.short ? `-${o.short}, ` : '    '
    const value = o.type !== 'string' ? '' : c.optionalValues?.[n] !== undefined ? ' [<value>]' : ' <value>'
    return `${short}--${n}${value}${o.multiple ? ' …' : ''}`
  }
  const width = Math.max(0, ...names.map((n) => flag(n).length))
  const opts = names.map((n) => `  ${flag(n).padEnd(width)}  ${c.optionHelp[n] ?? ''}`)
  return [
    `${c.summary}`,
    '',
    `Usage: ${c.usage}`,
    ...(opts.length ? ['', 'Options:', ...opts] : []),
    ...(c.details ? ['', c.details.trimEnd()] : []),
    '',
  ].join('\n')
}

function suggest(name: string): string {
  const close = commands.filter((c) => c.name.startsWith(name.slice(0, 2)))
  return close.length ? `Did you mean: ${close.map((c) => c.name).join(', ')}?\n` : ''
}
