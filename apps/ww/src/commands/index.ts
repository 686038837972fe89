import type { Command } from '../command.js'
import { demo } from './demo.js'
import { run } from './run.js'

/** Every `ww` subcommand, in the order `ww --help` lists them. */
export const commands: Command[] = [run, demo]
