import type { Command } from '../command.js'

/**
 * A subcommand, loaded when used: a client command need not load libp2p or Binaryen, and
 * `ww --help` loads none (its one line per command is here, not in the command's module).
 */
export interface CommandEntry {
  readonly name: string
  /** The command's line in `ww --help`, and the first line of its own help. */
  readonly summary: string
  load(): Promise<Command>
}

/** Every `ww` subcommand, in the order `ww --help` lists them. */
export const commands: CommandEntry[] = [
  { name: 'run', summary: 'run a WebAssembly module as a ww process on an embedded host', load: async () => (await import('./run.js')).run },
  { name: 'demo', summary: 'run the demo: a word count by guests that spawn, share anchors and publish, on one host or several', load: async () => (await import('./demo.js')).demo },
  { name: 'host', summary: 'start a host (embedded, or in a libp2p cluster) and serve its RPC endpoint', load: async () => (await import('./host.js')).host },
  { name: 'ps', summary: 'list the processes of the connected host', load: async () => (await import('./procs.js')).ps },
  { name: 'spawn', summary: 'start a WebAssembly module as a process on the connected host, or on another host of its cluster', load: async () => (await import('./procs.js')).spawn },
  { name: 'kill', summary: 'kill processes of the connected host (and their children)', load: async () => (await import('./procs.js')).kill },
  { name: 'wait', summary: 'wait until processes of the connected host end, and say how each ended', load: async () => (await import('./procs.js')).wait },
  { name: 'registry', summary: 'find the providers of a service name in the cluster', load: async () => (await import('./registry.js')).registry },
  { name: 'cluster', summary: 'list the hosts of the cluster, as the connected host sees them', load: async () => (await import('./cluster.js')).cluster },
  { name: 'anchors', summary: 'list, read, write and watch anchors (the cluster\'s shared path tree)', load: async () => (await import('./anchors.js')).anchors },
  { name: 'pub', summary: 'publish a message on a topic', load: async () => (await import('./pubsub.js')).pub },
  { name: 'sub', summary: 'print the messages published on a topic, as they come', load: async () => (await import('./pubsub.js')).sub },
  { name: 'key', summary: 'make a swarm key or an endpoint token; print a host\'s peer id', load: async () => (await import('./key.js')).key },
]

/** A command's summary, for its module to use: said once, here. */
export function summaryOf(name: string): string {
  const entry = commands.find((c) => c.name === name)
  if (!entry) throw new Error(`no ww command '${name}'`)
  return entry.summary
}
