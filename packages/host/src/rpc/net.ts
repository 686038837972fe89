// The Dialer, Listener and Conn servers (schemas/net.capnp) over src/net/tcp.ts. A Dialer reaches
// only its allow-list; `restrict` narrows it (with a Revoker); every connection lives in
// the Dialer's scope, so revoking the Dialer or closing the Host closes its connections,
// and a Conn released by its last holder is closed.

import { common, net as capNet } from '@ww/schema'
import type { ClientLike } from 'capnp-ts'
import { TcpDialer, type TcpAcceptor, type TcpConn, type TcpLimits } from '../net/tcp.js'
import { freeOnRelease, revokerServer } from './common.js'
import { guard } from './guard.js'
import type { CapabilityProvider, ProcessIdentity } from './host.js'
import { Scope } from './scope.js'

const HOW = { [capNet.ShutdownHow.READ]: 'read', [capNet.ShutdownHow.WRITE]: 'write', [capNet.ShutdownHow.BOTH]: 'both' } as const

export function connServer(conn: TcpConn, scope: Scope): capNet.Conn$Server {
  const off = scope.onRevoke(() => conn.close())
  void conn.closed.then(off)
  return freeOnRelease(new capNet.Conn.Server(guard(scope, 'conn', {
    async read(p, r) {
      const got = await conn.read(p.getMax())
      if (got.data.byteLength > 0) r.setData(got.data)
      r.setEof(got.eof)
    },
    async write(p) {
      await conn.write(p.getData().toUint8Array())
    },
    shutdown(p) { conn.shutdown(HOW[p.getHow()] ?? 'both') },
    close() { conn.close() },
    addrs(_p, r) {
      const a = conn.addrs()
      r.setLocal(a.local)
      r.setRemote(a.remote)
    },
  })), () => conn.close())
}

/**
 * The Listener server over a bound TcpAcceptor, for a spawner to hand a process (as an
 * ExecOptions.preopens entry). Accepted connections live in `scope`; revoking it, or the
 * last holder's release, closes the listener (accepted connections stay open).
 */
export function listenerServer(listener: TcpAcceptor, scope: Scope): capNet.Listener$Server {
  const off = scope.onRevoke(() => listener.close())
  return freeOnRelease(new capNet.Listener.Server(guard(scope, 'listener', {
    async accept(_p, r) {
      const conn = await listener.accept()
      if (scope.revoked) { conn.close(); return } // guard answers ERR_REVOKED
      r.setConn(connServer(conn, scope))
    },
    addr(_p, r) { r.setAddr(listener.address) },
    close() { listener.close() },
  })), () => { off(); listener.close() })
}

export function dialerServer(dialer: TcpDialer, scope: Scope): capNet.Dialer$Server {
  return new capNet.Dialer.Server(guard(scope, 'dialer', {
    async dial(p, r) {
      const addr = p.getAddr()
      const timeoutMs = p.getTimeoutMs()
      const conn = await dialer.dial(addr, timeoutMs > 0 ? { timeoutMs } : {})
      if (scope.revoked) { conn.close(); return } // guard answers ERR_REVOKED
      r.setConn(connServer(conn, scope))
    },
    allowed(_p, r) {
      const l = r.initAddrs(dialer.allowed.length)
      dialer.allowed.forEach((a, i) => l.set(i, a))
    },
    restrict(p, r) {
      const narrowed = dialer.restrict(p.getAddrs().toArray())
      const child = scope.child()
      r.setDialer(dialerServer(narrowed, child))
      r.setRevoker(revokerServer(child) as common.Revoker$Server)
    },
  }))
}

/** hostCapability's `dialer` provider: every Host gets a dialer over the same allow-list. */
export function dialerProvider(allowed: readonly string[], limits: TcpLimits = {}): CapabilityProvider {
  return {
    capabilityFor(_identity: ProcessIdentity, scope?: Scope): ClientLike {
      return dialerServer(new TcpDialer(allowed, limits), scope?.child() ?? new Scope())
    },
  }
}
