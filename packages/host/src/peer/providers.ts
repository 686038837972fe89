// Finders on this host calling providers on other hosts. Each provider a Registry answer
// carries is a forwarder of its own: on its first call it asks the provider's host for the
// provision (Peer.provider(token)) and sends the call pipelined on that answer — one round
// trip — then forwards every call over the same link, bounded by the link's deadlines
// (ERR_HOST_UNREACHABLE once the link is gone, ERR_TIMEOUT past the bound). When the finder
// lets go of it, the reference the provider's host handed out is released.

import { peer } from '@ww/schema'
import type { Client } from 'capnp-ts'
import type { Provider, RemoteServices } from '../registry.js'
import type { HostId } from '../pubsub/types.js'
import { callRaw, forwardingServer } from '../rpc/forward.js'
import type { PeerLink } from './rpc.js'

export interface LinkDialer {
  /** The open link to `host`, if there is one now. */
  openLink(host: HostId): PeerLink | undefined
  dialPeer(host: HostId): Promise<PeerLink>
}

export function remoteServices(links: LinkDialer): RemoteServices {
  return { service: (p) => remoteService(links, p) }
}

const unbounded = (): void => {}

function remoteService(links: LinkDialer, p: Provider): unknown {
  let link: PeerLink | undefined
  let answer: ReturnType<typeof callRaw> | undefined
  let released = false
  // Once answered, the capability there is an import of ours: disposing it releases it.
  const letGo = (a: ReturnType<typeof callRaw>): void => { void a.then(() => a.cap(0).dispose(), () => {}) }
  const ask = (l: PeerLink): Client => {
    link = l
    const a = answer = callRaw(l.peer.client, peer.Peer.methods.provider as never, (q) => { (q as peer.Peer_provider$Params).setToken(p.token) })
    if (released) letGo(a) // let go of while the link was being dialled
    return a.cap(0)
  }
  return forwardingServer(() => {
    const open = links.openLink(p.host)
    return open !== undefined ? ask(open) : links.dialPeer(p.host).then(ask)
  }, {
    watch: (what, fail) => (link === undefined ? unbounded : link.watch(() => `${what()} of ${p.name} on ${p.host}`, fail)),
    // As the link's own calls fail: its connection closing under a call is ERR_HOST_UNREACHABLE.
    mapError: (e) => (link === undefined ? e : link.errorOf(e)),
    released: () => {
      released = true
      if (answer !== undefined) letGo(answer)
    },
  })
}
