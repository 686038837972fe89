import type { Command } from '../command.js'
import { anchors } from './anchors.js'
import { cluster } from './cluster.js'
import { demo } from './demo.js'
import { host } from './host.js'
import { pub, sub } from './pubsub.js'
import { run } from './run.js'

/** Every `ww` subcommand, in the order `ww --help` lists them. */
export const commands: Command[] = [run, demo, host, cluster, anchors, pub, sub]
