import type { Command } from '../command.js'

/** A subcommand, loaded when used: a client command need not load libp2p or Binaryen. */
export interface CommandEntry {
  readonly name: string
  load(): Promise<Command>
}

/** Every `ww` subcommand, in the order `ww --help` lists them. */
export const commands: CommandEntry[] = [
  { name: 'run', load: async () => (await import('./run.js')).run },
  { name: 'demo', load: async () => (await import('./demo.js')).demo },
  { name: 'host', load: async () => (await import('./host.js')).host },
  { name: 'ps', load: async () => (await import('./procs.js')).ps },
  { name: 'spawn', load: async () => (await import('./procs.js')).spawn },
  { name: 'kill', load: async () => (await import('./procs.js')).kill },
  { name: 'wait', load: async () => (await import('./procs.js')).wait },
  { name: 'registry', load: async () => (await import('./registry.js')).registry },
  { name: 'cluster', load: async () => (await import('./cluster.js')).cluster },
  { name: 'anchors', load: async () => (await import('./anchors.js')).anchors },
  { name: 'pub', load: async () => (await import('./pubsub.js')).pub },
  { name: 'sub', load: async () => (await import('./pubsub.js')).sub },
  { name: 'key', load: async () => (await import('./key.js')).key },
]
