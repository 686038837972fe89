// Where a running host is recorded, so that `ww ps` finds it without flags: the state
// file $WW_HOME/host.json (WW_HOME defaults to ~/.ww) names the last host started from
// that home. Clients pick, in order: --host ADDR, $WW_HOST, the state file.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { NoHostError } from '../errors.js'

export interface HostRecord {
  /** The host's id (libp2p peer id, or embedded-…). */
  readonly id: string
  /** The OS process running it. */
  readonly pid: number
  /** Its RPC endpoint (formatRpcAddress). */
  readonly rpc: string
  /** The token file its TCP endpoint asks for, if any (clients of this home use it). */
  readonly token?: string
  /** Its web view, if served. */
  readonly ui?: string
  readonly cluster: 'embedded' | 'libp2p'
  /** Worker threads running its processes (0: all on its main thread; absent from hosts before --workers). */
  readonly workers?: number
  /** Where other hosts reach it (multiaddrs); empty when embedded. */
  readonly addresses: readonly string[]
  readonly startedAt: string
}

export function wwHome(env: NodeJS.ProcessEnv): string {
  return env.WW_HOME !== undefined && env.WW_HOME !== '' ? env.WW_HOME : join(homedir(), '.ww')
}

/**
 * Where ww keeps caches (instrumented modules under instrumented/): $WW_CACHE, else
 * $WW_HOME/cache. Separate from the home so a host with a throwaway home (`ww demo`'s)
 * still finds what earlier runs built.
 */
export function wwCache(env: NodeJS.ProcessEnv): string {
  return env.WW_CACHE !== undefined && env.WW_CACHE !== '' ? env.WW_CACHE : join(wwHome(env), 'cache')
}

/** Where instrumented modules are kept across runs: `instrumented/` under wwCache. */
export function moduleCacheDir(env: NodeJS.ProcessEnv): string {
  return join(wwCache(env), 'instrumented')
}

/** Creates $WW_HOME (and run/ for sockets) readable by this user only. */
export function ensureHome(home: string): void {
  mkdirSync(join(home, 'run'), { recursive: true, mode: 0o700 })
}

const stateFile = (home: string): string => join(home, 'host.json')

export function writeHostRecord(home: string, r: HostRecord): void {
  ensureHome(home)
  // Write then rename: a client never reads half a file.
  const tmp = `${stateFile(home)}.${process.pid}.tmp`
  writeFileSync(tmp, JSON.stringify(r, null, 2) + '\n', { mode: 0o600 })
  renameSync(tmp, stateFile(home))
}

export function readHostRecord(home: string): HostRecord | undefined {
  let text: string
  try {
    text = readFileSync(stateFile(home), 'utf8')
  } catch {
    return undefined
  }
  try {
    const r = JSON.parse(text) as HostRecord
    return typeof r.rpc === 'string' && typeof r.pid === 'number' && typeof r.id === 'string' ? r : undefined
  } catch {
    return undefined
  }
}

/** Removes the record if it still names this OS process (another host may have replaced it). */
export function removeHostRecord(home: string, pid = process.pid): void {
  if (readHostRecord(home)?.pid === pid) rmSync(stateFile(home), { force: true })
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM'
  }
}

export interface Target {
  readonly rpc: string
  /** Where the address came from, for error messages. */
  readonly from: '--host' | 'WW_HOST' | 'state'
  readonly record?: HostRecord
}

/** The endpoint a client should use, or NoHostError saying how to get one. */
export function resolveTarget(flag: string | undefined, env: NodeJS.ProcessEnv): Target {
  if (flag !== undefined && flag !== '') return { rpc: flag, from: '--host' }
  if (env.WW_HOST !== undefined && env.WW_HOST !== '') return { rpc: env.WW_HOST, from: 'WW_HOST' }
  const home = wwHome(env)
  const record = readHostRecord(home)
  if (record === undefined) throw new NoHostError(`no host is running (nothing recorded in ${stateFile(home)})`)
  if (!isAlive(record.pid)) throw new NoHostError(`no host is running (the host recorded in ${stateFile(home)}, OS pid ${record.pid}, has exited)`)
  return { rpc: record.rpc, from: 'state', record }
}
