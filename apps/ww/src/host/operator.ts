// The BootContext an RPC client of `ww host` gets from `Host.bootContext()`: the client acts
// as the host's operator (pid 0, the embedder), and its context names one capability per
// live process of this host, `process/<pid>` — a Process (wait, kill, info). That is how
// `ww kill PID` reaches a process it did not spawn, without a kill-by-number call in any
// guest-facing interface: only the operator's context holds these.
import { process as capProcess } from '@ww/schema'
import { setInterfaceClient } from 'capnp-ts'
import { processServer, rpcError, type ProcessIdentity, type Scope } from '@ww/host/embedded'
import type { ProcessTree } from '@ww/host'

const PREFIX = 'process/'

export function operatorContext(tree: ProcessTree, identity: ProcessIdentity, scope: Scope): capProcess.BootContext$Server {
  const processCap = (name: string): capProcess.Process$Server => {
    const pid = name.startsWith(PREFIX) && /^\d{1,15}$/.test(name.slice(PREFIX.length)) ? Number(name.slice(PREFIX.length)) : undefined
    if (pid === undefined) throw rpcError('ERR_NOT_FOUND', `no capability named '${name}' (names: ${PREFIX}<pid>)`)
    let handle
    try {
      handle = tree.executor().process(pid)
    } catch {
      throw rpcError('ERR_NOT_FOUND', `no live process ${pid} on host ${identity.host}`)
    }
    return processServer(handle, identity, scope)
  }
  const live = (): string[] => tree.list().filter((p) => p.host === identity.host).map((p) => `${PREFIX}${p.pid}`)
  const writeRef = (ref: { setHost(h: string): void; setPid(p: bigint): void }, pid: bigint): void => { ref.setHost(identity.host); ref.setPid(pid) }
  return new capProcess.BootContext.Server({
    info(_p, r) {
      const i = r.initInfo()
      writeRef(i.initSelf(), identity.pid)
      writeRef(i.initParent(), 0n)
      i.setName('operator')
      const names = live()
      const caps = i.initCaps(names.length)
      names.forEach((n, k) => { caps.get(k).setName(n); setInterfaceClient(1, processCap(n), caps.get(k)) })
    },
    self(_p, r) { writeRef(r.initSelf(), identity.pid) },
    parent(_p, r) { writeRef(r.initParent(), 0n) },
    args() {},
    caps(_p, r) {
      const names = live()
      const caps = r.initCaps(names.length)
      names.forEach((n, k) => { caps.get(k).setName(n); setInterfaceClient(1, processCap(n), caps.get(k)) })
    },
    cap(p, r) {
      if (scope.revoked) throw rpcError('ERR_REVOKED', 'the client disconnected')
      setInterfaceClient(0, processCap(p.getName()), r)
    },
  })
}
