@0xaf2851bfc601ebcf;
# The Host: the bootstrap capability of every ww process (see packages/transport/ABI.md,
# "Bootstrap"), and the root from which it reaches everything else it may use.
#
# Each process gets its own Host, made for it by the executor and bound to its identity:
# what it spawns through `executor()` are its children, what it publishes is signed as
# its own. A spawner decides which methods the child's Host answers (`HostRights` and
# `HostOverrides` in process.capnp); a withheld one fails with an RPC exception whose
# reason is "ERR_CAP_DENIED: <method>", so a guest can tell "not granted" from every other
# failure. `rights()` says in advance which are granted.

using Common = import "common.capnp";
using Cluster = import "cluster.capnp";
using PubSub = import "pubsub.capnp";
using Anchor = import "anchor.capnp";
using Registry = import "registry.capnp";
using Process = import "process.capnp";
using Net = import "net.capnp";
using Debug = import "debug.capnp";

interface Host @0xc847bc1a71efbd6c {
  # The methods return the same capability on every call (calling twice is cheap and
  # yields equal capabilities). When the Host is revoked, every capability obtained
  # through it is revoked too (ERR_REVOKED). When its process exits, all of them are.

  bootContext @0 () -> (context :Process.BootContext);
  # Who this process is, who spawned it, its argument blob and named capabilities.
  # Never denied. (Named `context` until the official C++ generator could not compile a
  # server for it: the method name shadows the call context. Same ordinal, same wire.)

  rights @1 () -> (rights :Process.HostRights);
  # Which of the methods below this Host answers. Never denied.

  view @2 () -> (view :Cluster.View);
  # The cluster's membership. ERR_CAP_DENIED unless the `view` right was granted.

  pubSub @3 () -> (pubSub :PubSub.PubSub);
  # Joining topics by name. ERR_CAP_DENIED unless granted.

  root @4 () -> (root :Anchor.Anchor);
  # The root of the anchor tree this process may see: the cluster's root "/", or the
  # subtree (possibly read-only) its spawner chose. ERR_CAP_DENIED unless granted.

  registry @5 () -> (registry :Registry.Registry);
  # Service discovery (possibly scoped or find-only). ERR_CAP_DENIED unless granted.

  executor @6 () -> (executor :Process.Executor);
  # Spawning children, bound to this process's identity. ERR_CAP_DENIED unless granted.

  bytecodeCache @7 () -> (cache :Process.BytecodeCache);
  # This host's module cache. ERR_CAP_DENIED unless granted.

  debug @8 () -> (debug :Debug.Debug);
  # Host introspection. Denied (ERR_CAP_DENIED) unless explicitly granted: not in the
  # default rights of any child.

  dialer @9 () -> (dialer :Net.Dialer);
  # Outbound connections to the destinations the spawner named. ERR_CAP_DENIED unless
  # granted (the default: no network).

  info @10 () -> (info :Cluster.HostInfo);
  # This host's own record (id, addresses, version, load). Allowed whenever `view` is.

  attenuate @11 (rights :Process.HostRights, overrides :Process.HostOverrides) -> (host :Host, revoker :Common.Revoker);
  # A Host with at most these rights (the intersection with this Host's) and with the
  # given overrides, for handing to another party. It carries this process's identity:
  # children spawned through it are this process's children, and its `bootContext()` is this
  # process's. Revoking it revokes everything obtained through it.
}
