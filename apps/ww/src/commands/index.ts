import type { Command } from '../command.js'

/** Every `ww` subcommand, in the order `ww --help` lists them. */
export const commands: Command[] = []
