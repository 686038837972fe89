import type { ParseArgsConfig } from 'node:util'
import { WwError } from '@ww/interface'

/** Where a command writes; tests pass their own. */
export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean }
  stderr: NodeJS.WritableStream & { isTTY?: boolean }
  env: NodeJS.ProcessEnv
  /** Read by the commands that take input (`ww pub --stdin`); absent: they have none. */
  stdin?: NodeJS.ReadableStream
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>

/** One `ww` subcommand: its help is generated from these fields. */
export interface Command {
  name: string
  summary: string
  /** e.g. `ww run <module.wasm> [options]` */
  usage: string
  options: OptionSpec
  /**
   * String options whose value may be left out (`--ui` alone): the value used then.
   * The value, when given, must follow as the next argument and not start with `-`.
   */
  optionalValues?: Record<string, string>
  /** One line per option, by option name. */
  optionHelp: Record<string, string>
  /** Extra help text: examples, notes. */
  details?: string
  run(args: ParsedArgs, io: Io, signal: AbortSignal): Promise<number>
}

export interface ParsedArgs {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>
  positionals: string[]
}

/** A user error: printed as `ww: <message>` plus a hint, exit status 2. */
export class UsageError extends WwError<'ERR_USAGE'> {
  constructor(message: string, readonly hint?: string) {
    super('ERR_USAGE', message)
  }
}
