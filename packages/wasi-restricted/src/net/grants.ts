// Socket grants as descriptions: what to listen on or dial, and its limits, as plain data.
// A spawner whose guest runs on another thread (a pool worker) cannot hand it a live
// socket (a node:net handle belongs to the thread that opened it), so it decides what the
// guest gets, checks it here, and sends the description; the thread that runs the guest
// opens it with openSocketGrants and gets the same TcpListener / TcpConn a spawner on
// that thread would have made with listenTcp / dialerFor.

import { parseAddr } from './addr.js'
import { dialerFor } from './dialer.js'
import type { TcpConn } from './conn.js'
import { netLimits, type NetLimits } from './limits.js'
import { listenTcp, type TcpListener } from './listener.js'

/** One socket for a guest, described: a listener to bind, or a destination to dial. */
export type SocketGrant =
  | { readonly listen: string; readonly limits?: Partial<NetLimits> }
  | { readonly dial: string; readonly limits?: Partial<NetLimits> }

/** What openSocketGrants opened: listeners first, then connections (their fd order). */
export interface OpenedSockets {
  readonly listeners: readonly TcpListener[]
  readonly conns: readonly TcpConn[]
  /** Closes every one of them (a spawn that failed after opening them). */
  close(): void
}

/**
 * Checks the shape of each grant without touching the network: an address that is not
 * host:port is BadAddress (ERR_BAD_ADDRESS), bad limits a RangeError. Returns how many
 * listeners and connections they make.
 */
export function checkSocketGrants(grants: readonly SocketGrant[]): { listeners: number; conns: number } {
  let listeners = 0, conns = 0
  for (const g of grants) {
    const addr = 'listen' in g ? g.listen : (g as { dial?: unknown }).dial
    if (typeof addr !== 'string') throw new TypeError('a socket grant is { listen: "host:port" } or { dial: "host:port" }, with optional limits')
    parseAddr(addr)
    netLimits(g.limits)
    if ('listen' in g) listeners++
    else conns++
  }
  return { listeners, conns }
}

/**
 * Opens `grants` on this thread: binds each listener (listenTcp), dials each destination
 * (a dialer allowed that one address). On the first failure (BindFailed, AddressUnreachable,
 * NetTimeout…) everything opened so far is closed and the error is thrown.
 */
export async function openSocketGrants(grants: readonly SocketGrant[], signal?: AbortSignal): Promise<OpenedSockets> {
  checkSocketGrants(grants)
  const listeners: TcpListener[] = []
  const conns: TcpConn[] = []
  const close = (): void => {
    for (const l of listeners) l.close()
    for (const c of conns) c.close()
  }
  try {
    // In grant order, listeners before connections: the order createWasi numbers their fds.
    for (const g of grants) if ('listen' in g) listeners.push(await listenTcp(g.listen, g.limits, signal))
    for (const g of grants) {
      if ('dial' in g) conns.push(await dialerFor([g.dial], g.limits).dial(g.dial, signal ? { signal } : {}))
    }
  } catch (e) {
    close()
    throw e
  }
  return { listeners, conns, close }
}
