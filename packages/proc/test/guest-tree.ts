// A ProcessTree whose processes are composed guests, each with its own Host built from its
// spawner's request (childHostCapability) and its stdout/stderr kept by pid — on the
// in-thread scheduler or on a one-worker pool. Shared by the delegation tests.
import { childHostCapability, embeddedCluster, preopenSockets, ProcessTree, type Cluster, type StartSpec } from '@ww/host'
import type { host as capHost, process as capProcess } from '@ww/schema'
import { MemorySink } from '@ww/wasi-restricted'
import { poolRuntime, procRuntime, Scheduler, WorkerPool, type SchedulerOptions } from '../src/index.js'

export interface GuestTree extends AsyncDisposable {
  readonly cluster: Cluster
  readonly tree: ProcessTree
  /** What process `pid` wrote to stdout and stderr, as text. */
  output(pid: number): string
  /** The process table of wherever its processes run. */
  ps(): Promise<readonly { readonly pid: number; readonly hibernatedBytes: number | undefined }[]>
}

/** `scheduler`: the options of the scheduler its processes run on (the pool's worker's). */
export async function guestTree(on: 'thread' | 'pool', scheduler: Omit<SchedulerOptions, 'pids'> = {}): Promise<GuestTree> {
  const pool = on === 'pool' ? await WorkerPool.start({ workers: 1, scheduler }) : undefined
  const sched = new Scheduler(pool ? {} : scheduler)
  const cluster = embeddedCluster()
  const out = new Map<number, MemorySink>()
  const guest = (spec: StartSpec) => {
    const stdout = new MemorySink()
    out.set(spec.pid, stdout)
    // ExecOptions.preopens as its socket fds, as `ww host` gives them.
    const preopens = spec.child?.preopens?.length ? preopenSockets(spec.child.preopens) : {}
    return { stdout, stderr: stdout, host: () => childHostCapability(cluster, spec), ...preopens }
  }
  const runtime = pool ? poolRuntime(pool, { guest }) : procRuntime(sched, { guest })
  const tree = new ProcessTree({ runtime, cache: cluster.cache, host: cluster.id })
  return {
    cluster,
    tree,
    output: (pid) => Buffer.concat(out.get(pid)!.records.map((r) => r.bytes)).toString(),
    ps: async () => (pool ? await pool.ps() : sched.ps()),
    async [Symbol.asyncDispose]() {
      await tree.close()
      await pool?.close()
      await sched.close()
      await cluster.close()
    },
  }
}

/** Execs `bytes` through `host`'s Executor (real RPC) with the options `fill` writes; its exit code (-1: not exited) and output. */
export async function execOver(g: GuestTree, host: capHost.Host$Client, bytes: Uint8Array, fill: (o: capProcess.ExecOptions) => void): Promise<[number, string]> {
  const p = host.executor().getExecutor().exec((q) => { q.initBytecode().setInline(bytes); fill(q.initOptions()) }).getProcess()
  const pid = Number((await p.pid()).getSelf().getPid())
  const st = (await p.wait()).getStatus()
  return [st.isExited() ? st.getExited() : -1, g.output(pid)]
}
