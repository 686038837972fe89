// The Host capability over the zero-copy transport, as a plugin: each process gets a
// GuestConnection (the `ww` imports: Cap'n Proto RPC in its own memory) whose bootstrap
// is the capability the spawner built for it — a Host, an attenuation of one, or any
// other capability. Waits for answers park the process in the scheduler.

import { GuestConnection, type GuestConnectionOptions } from '@ww/transport'
import type { ProcessContext, ProcessExtension } from '../scheduler.js'
import { describeStatus, type Pid } from '../status.js'
import type { ProcessPlugin } from './plugin.js'

/** What a guest bootstraps, and how to free it when the process ends. */
export interface Bootstrap {
  readonly server: NonNullable<GuestConnectionOptions['bootstrap']>
  /** Called once when the process ends (e.g. HostCapability.close: revoke what it handed out). */
  close?(reason?: string): void
}

/** Builds one process's bootstrap capability, once its pid is known. */
export type BootstrapFactory = (ctx: { readonly pid: Pid }) => Bootstrap

export interface HostConnectionOptions {
  /** The capability the guest's Bootstrap gets (built per process). */
  bootstrap: BootstrapFactory
  /** 'zero-copy' (default) or 'copying' (the baseline). */
  transport?: GuestConnectionOptions['transport']
  limits?: GuestConnectionOptions['limits']
}

/** One process's transport part; `connection` has its RPC and transport counters. */
export interface HostPart extends ProcessExtension {
  readonly connection: GuestConnection
}

export interface HostConnectionPlugin extends ProcessPlugin {
  create(ctx: ProcessContext): HostPart
}

export function hostConnection(opts: HostConnectionOptions): HostConnectionPlugin {
  return {
    name: 'host',
    provides: ['ww'],
    suspendingImports: ['ww.recv'],
    create(ctx) {
      const boot = opts.bootstrap({ pid: ctx.pid })
      let conn: GuestConnection
      try {
        conn = new GuestConnection({
          processId: ctx.pid, bootstrap: boot.server, suspension: ctx.suspender,
          ...(opts.transport ? { transport: opts.transport } : {}),
          ...(opts.limits ? { limits: opts.limits } : {}),
        })
      } catch (e) {
        boot.close?.('process failed to start')
        throw e
      }
      return {
        connection: conn,
        imports: conn.imports(),
        attach: (inst) => conn.attach(inst),
        // Parked in ww.recv, it keeps no view of guest memory: the next frame is written on resume.
        canHibernate: () => conn.movable,
        onHibernate: () => conn.detach(),
        onRestore: (inst) => conn.attach(inst),
        onExit: (status) => {
          if (status.kind === 'exited') conn.close()
          else conn.kill(new Error(describeStatus(status)))
          boot.close?.(describeStatus(status))
        },
        stats: () => ({ framesIn: conn.stats.framesIn, framesOut: conn.stats.framesOut }),
      }
    },
  }
}
