export { main, commandHelp } from './cli.js'
export type { Command, Io, ParsedArgs } from './command.js'
export { UsageError } from './command.js'
