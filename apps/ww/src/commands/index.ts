import type { Command } from '../command.js'
import { demo } from './demo.js'

/** Every `ww` subcommand, in the order `ww --help` lists them. */
export const commands: Command[] = [demo]
