// tally: a small, complete ww plugin (PLUGINS.md). A guest calls `tally.add(n)` and
// `tally.total()` (WASM imports); the plugin keeps each process's running total, ends a
// process that goes past its limit (trapped, ERR_TALLY_LIMIT), refuses spawns that ask for
// more memory than it allows (its policy), shows the total in `ps`, and appends one JSON
// line per process to a log file when it ends. It is a module whose export is a
// PluginFactory, so the in-thread scheduler, each thread of a worker pool and
// `ww host --plugin` load it the same way.

import { appendFileSync } from 'node:fs'
import { describeStatus, WwError, type PluginFactory, type PluginSpec, type ProcessExtension, type ProcessPlugin, type SpawnCheck } from '@ww/interface'

/** The import module a guest calls: `tally.add(n: i32) -> i32` (the new total), `tally.total() -> i32`. */
export const TALLY_MODULE = 'tally'

export interface TallyOptions {
  /** Refuse a spawn asking for a memory cap above this many 64 KiB pages (its policy). Default: any. */
  readonly maxMemoryPages?: number
  /** The most one process's total may reach; an `add` past it ends the process (trapped, ERR_TALLY_LIMIT). Default 2^31-1. */
  readonly limit?: number
  /** A file to append `{"pid","total","calls","status"}` to, one line per process, when it ends. */
  readonly log?: string
}

export type TallyErrorCode = 'ERR_TALLY_OPTIONS' | 'ERR_TALLY_REFUSED' | 'ERR_TALLY_LIMIT'

export class TallyError extends WwError<TallyErrorCode> {}

/** One line of the log. */
export interface TallyRecord {
  readonly pid: number
  readonly total: number
  readonly calls: number
  /** How the process ended, in words (describeStatus). */
  readonly status: string
}

/** This plugin as a spec: give it to `loadPlugin`, or to a pool's spawn as it is (it names this very module). */
export function tallySpec(options: TallyOptions = {}): PluginSpec {
  return { module: import.meta.url, export: 'tally', options }
}

/** The PluginFactory (also the default export). Throws TallyError(ERR_TALLY_OPTIONS) for options it cannot use. */
export const tally: PluginFactory<TallyOptions | undefined> = (options = {}) => {
  const { maxMemoryPages, limit = 0x7fff_ffff, log } = options
  if (maxMemoryPages !== undefined && !(Number.isInteger(maxMemoryPages) && maxMemoryPages > 0)) throw new TallyError('ERR_TALLY_OPTIONS', `maxMemoryPages must be a positive integer (got ${String(maxMemoryPages)})`)
  if (!(Number.isInteger(limit) && limit >= 0 && limit <= 0x7fff_ffff)) throw new TallyError('ERR_TALLY_OPTIONS', `limit must be an integer from 0 to 2^31-1 (got ${String(limit)})`)
  if (log !== undefined && typeof log !== 'string') throw new TallyError('ERR_TALLY_OPTIONS', 'log must be a file path')

  const plugin: ProcessPlugin = {
    name: 'tally',
    provides: [TALLY_MODULE],
    check(spawn: SpawnCheck): void {
      if (maxMemoryPages !== undefined && spawn.memoryPages !== undefined && spawn.memoryPages > maxMemoryPages) {
        throw new TallyError('ERR_TALLY_REFUSED', `tally allows at most ${maxMemoryPages} memory pages per process; this spawn asks for ${spawn.memoryPages}`)
      }
    },
    create(ctx): ProcessExtension {
      let total = 0
      let calls = 0
      return {
        imports: {
          [TALLY_MODULE]: {
            add: (n: number): number => {
              calls++
              if (total + n > limit || n < 0) throw new TallyError('ERR_TALLY_LIMIT', `tally: adding ${n} to ${total} passes the limit ${limit} (or is negative)`)
              total += n
              return total
            },
            total: (): number => total,
          },
        },
        // The limit error ends the guest; read it as a status of our own, not a generic trap.
        exitStatus: (e) => e instanceof TallyError && e.code === 'ERR_TALLY_LIMIT' ? { kind: 'trapped', code: e.code, reason: e.message } : undefined,
        stats: () => ({ counters: { 'tally.total': total, 'tally.calls': calls } }),
        onExit: (status) => {
          if (log === undefined) return
          const record: TallyRecord = { pid: ctx.pid, total, calls, status: describeStatus(status) }
          appendFileSync(log, JSON.stringify(record) + '\n')
        },
      }
    },
  }
  return plugin
}

export default tally
