@0xb56c48658cec1397;
# Host to host. The bootstrap capability one ww host offers another over the libp2p
# stream protocol "/ww/rpc/1.0.0" (Cap'n Proto RPC, unpacked stream framing). Never handed
# to guests. The caller's identity is the remote peer id that the connection's noise
# handshake authenticated: a Peer trusts the calling host to vouch for its own processes
# (a ProcessRef whose `host` is the caller), and nothing else.
#
# Membership (cluster.capnp `Heartbeat`), pubsub and registry announcements travel over
# gossipsub, not over this interface; this is for what needs a call and an answer.

using Common = import "common.capnp";
using Cluster = import "cluster.capnp";
using Process = import "process.capnp";
using Anchor = import "anchor.capnp";

struct Announcement @0xff827aec8f8b50f4 {
  # A registry announcement, as published on the cluster's registry topic (after a kind
  # byte 1; kind 2 followed by a UTF-8 name is a query). Finders resolve it to a
  # capability with `Peer.provider`.

  name @0 :Text;
  # The fully prefixed service name.

  provider @1 :Common.ProcessRef;
  # Set by the announcing host; receivers drop announcements whose `provider.host` is
  # not the pubsub message's authenticated sender.

  token @2 :UInt64;
  # Identifies the provision on the provider's host.

  ttlMs @3 :UInt32;
  meta @4 :List(Text);

  withdrawn @5 :Bool;
  # The provision was cancelled: forget it now.
}

interface Peer @0xc1ee4c98368f2276 {
  ping @0 () -> ();
  # The null call, for liveness and round-trip measurement.

  info @1 () -> (info :Cluster.HostInfo);
  # The callee's current record.

  exec @2 (parent :Common.ProcessRef, bytecode :Process.Bytecode, options :Process.ExecOptions) -> (process :Process.Process);
  # Spawns a process on the callee on behalf of `parent`, a process of the calling host
  # (ERR_CAP_DENIED if `parent.host` is not the caller). `options.where` is ignored.
  # A `cid` missing here is fetched back from the caller with `bytecode`. When the
  # connection to the caller is lost, the process is killed (`parentExited`): a child
  # never outlives its link to its parent.

  bytecode @3 (cid :Common.Cid) -> (bytecode :Data);
  # A module from the callee's cache. ERR_NOT_FOUND if absent.

  provider @4 (token :UInt64) -> (service :Capability);
  # The service capability of a live provision on the callee (see `Announcement`), a
  # reference of the caller's own (releasing it releases it on the callee). ERR_REVOKED if
  # it was withdrawn, expired or is unknown; its calls fail so once that happens later.

  anchors @5 () -> (root :Anchor.Anchor);
  # The callee's replica of the anchor tree, for reading capability values it hosts and
  # arbitrating compareAndSet on nodes it owns.
}
