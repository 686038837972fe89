@0x85f840c404e8b31a;
# The cluster view: which hosts are up, what they report about themselves, and a stream
# of joins and leaves. Reached from `Host.view()`.
#
# Membership comes from heartbeats every host publishes on the cluster's membership
# topic (`Heartbeat` below, the one message hosts exchange there). A host that misses its
# heartbeats for `ttlMs` is considered gone. The view is each host's own partial,
# eventually consistent picture: two hosts may briefly disagree.

using Common = import "common.capnp";
using HostId = Common.HostId;

struct HostInfo @0xce81dee03a738558 {
  # What a host says about itself in its latest heartbeat.

  id @0 :HostId;
  # The host's identity (see common.capnp `HostId`).

  addrs @1 :List(Text);
  # The multiaddrs other hosts can dial it at, in string form
  # (e.g. "/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…"). Empty for an embedded host.

  version @2 :Text;
  # The ww version the host runs (semver, e.g. "0.1.0").

  uptimeMs @3 :UInt64;
  # Milliseconds since the host started, as of the heartbeat that carried this record.

  load @4 :Load;
  # Load figures, as of that heartbeat.

  meta @5 :List(Text);
  # Operator-set labels, each "key=value" (split on the first '='). Not unique, not
  # verified: use them for placement hints, never for authority.

  seq @6 :UInt64;
  # The heartbeat's sequence number, increasing per host incarnation: a record with a
  # higher seq supersedes one with a lower seq.

  ttlMs @7 :UInt32;
  # How long this record stays valid without a newer heartbeat.

  incarnation @8 :UInt64;
  # A random number drawn each time the host boots: a restarted host with the same id is
  # a new incarnation, and its seq starts again from 0.
}

struct Load @0xa32d69c7773c9172 {
  # Load figures of one host. All of them are samples, not promises.

  processes @0 :UInt32;
  # Live ww processes on the host.

  cpus @1 :UInt16;
  # Logical CPUs the host may use.

  cpuLoad @2 :Float32;
  # One-minute average of busy CPUs (0 = idle, `cpus` = all busy).

  memoryUsed @3 :UInt64;
  # Bytes of memory the host's process uses (resident set).

  memoryLimit @4 :UInt64;
  # Bytes the host may use in all (its configured limit, or the machine's memory).
}

struct Heartbeat @0xb178879b2668a1d8 {
  # The message a host publishes on the cluster's membership topic, every `ttlMs / 3`
  # or so, and once with `leaving = true` when it shuts down cleanly. Host to host only;
  # guests never see it (they see HostInfo and MembershipEvent).

  info @0 :HostInfo;
  # The sender's current record. Receivers check that `info.id` is the pubsub message's
  # authenticated sender and drop the heartbeat otherwise.

  leaving @1 :Bool;
  # The host is shutting down: remove it now rather than after `ttlMs`.
}

struct Selector @0x8f7fa031464991d0 {
  # Which hosts a `list` or `iter` call returns.

  union {
    all @0 :Void;
    # Every host in the view.

    idPrefix @1 :Text;
    # Hosts whose id starts with this text (the empty prefix matches all).

    meta @2 :Text;
    # Hosts carrying this exact "key=value" label.
  }
}

enum LeaveReason @0x89094812c8a4db09 {
  # Why a host left the view.

  expired @0;
  # No heartbeat within its ttl: it crashed, was killed, or is cut off from us.

  graceful @1;
  # It announced that it is leaving (a `leaving` heartbeat).

  restarted @2;
  # A new incarnation with the same id appeared: the old one is gone. A `joined` event
  # for the new incarnation follows.
}

struct MembershipEvent @0xbd9df532f69eaaaa {
  # One change in the view.

  seq @0 :UInt64;
  # Numbers the changes one watcher's view saw, from 1, in order. Events merged away
  # while the handler was busy keep their numbers, so a gap means coalescing happened
  # (see `View.watch`).

  atMs @1 :UInt64;
  # When this host noticed the change, in milliseconds since the Unix epoch.

  union {
    joined @2 :HostInfo;
    # A host appeared (or, with `replay`, was already there when the watch started).

    left :group {
      # A host is gone. Its processes' ExitStatus becomes `hostLost`.

      id @3 :HostId;
      reason @4 :LeaveReason;
    }

    updated @5 :HostInfo;
    # A known host sent a heartbeat that changed its addrs, version, or meta. Load-only
    # changes are not reported (poll `lookup` or `list` for load).
  }
}

interface HostHandler @0xd1eb135f779ee6f1 {
  # Receives the hosts of an `iter` call, batch by batch.

  hosts @0 (batch :List(HostInfo)) -> ();
  # Called with the next batch (never empty). The view sends the next batch only after
  # this call returns: return when you have taken the batch. Throwing stops the
  # iteration; `iter` then fails with the same exception.
}

interface MembershipHandler @0xc0301ce02d232f1c {
  # Receives joins and leaves from `View.watch`.

  events @0 (batch :List(MembershipEvent)) -> ();
  # Called with one or more events in order. At most one call is outstanding per watch:
  # the view sends the next batch only after this returns. Throwing ends the watch (no
  # `done` follows).

  done @1 (reason :Text) -> ();
  # The watch ended for a reason other than the watcher's own `cancel`: revocation
  # ("ERR_REVOKED: …"), host shutdown, or the caller's process exiting. Last call.
}

interface View @0xa9eb845ebea1a21d {
  # A read-only window on the cluster's membership. Holding it reveals the hosts and
  # their addresses; it grants no way to reach them (that takes an Executor, Dialer, …).

  list @0 (selector :Selector, cursor :Data, limit :UInt32) -> (hosts :List(HostInfo), next :Data);
  # One page of the hosts matching `selector`, ordered by id. Start with an empty
  # `cursor`; pass the returned `next` to get the following page; an empty `next` means
  # the end. `limit` 0 means the host's default page size (100); larger limits are
  # capped to 1000. A cursor is opaque and stays valid across membership changes (hosts
  # that joined behind it are skipped, hosts that left are not returned).

  lookup @1 (id :HostId) -> (found :Bool, host :HostInfo);
  # The record of one host, or `found = false` if it is not in the view. Never throws
  # ERR_NOT_FOUND: absence is an answer.

  iter @2 (selector :Selector, handler :HostHandler) -> (count :UInt32);
  # Delivers every matching host to `handler` in batches, ordered by id, and returns the
  # number delivered once the handler has taken the last batch. A snapshot at the time
  # of the call.

  watch @3 (handler :MembershipHandler, replay :Bool) -> (handle :Common.Handle);
  # Starts a stream of membership events to `handler`. With `replay`, the stream starts
  # with one `joined` per host already in the view. Events are delivered in the order
  # this host saw them; a slow handler is never waited on by anyone else: while a call
  # is outstanding, pending events for the same host coalesce (a join and then a leave
  # of the same incarnation vanish; successive updates keep the latest), and `seq` shows
  # the gap. The watch lasts until `handle.cancel()`, the handle is released, the
  # handler throws, or `handler.done` is called.

  self @4 () -> (host :HostInfo);
  # This host's own record (the one it is heartbeating now).
}
