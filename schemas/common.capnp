@0x970d97112b6f372b;
# Types every other ww schema shares: identities, content ids, named capabilities, the
# handles that end a stream, revocation, and the stable error reasons of RPC exceptions.
# This file imports nothing; every other file may import it.

# ── Identities ─────────────────────────────────────────────────────────────────────

using HostId = Text;
# A host's identity: its libp2p peer id in string form (e.g. "12D3KooW…"), or the name of
# the embedded host ("local" unless configured). Stable for the life of the host's key;
# compared as exact strings.

using Cid = Data;
# A content id: the 32-byte BLAKE3 digest of a module's bytes, nothing else (no multihash
# prefix). A Cid of any other length is rejected with ERR_INVALID_ARGUMENT.

struct ProcessRef @0x9710937663cdae00 {
  # Names one process anywhere in the cluster. Only a name: holding a ProcessRef confers
  # no authority over the process (that takes a Process capability).

  host @0 :HostId;
  # The host the process runs on.

  pid @1 :UInt64;
  # The process id, unique on `host` for the life of the host and never reused. Pid 0 is
  # the host itself: the parent of every process that the host's embedder (the `ww`
  # command, or code using @ww/proc) spawned directly.
}

struct NamedCap @0x99d304e3a1dd40d4 {
  # One capability with the name its holder knows it by: the ww replacement for argv and
  # environment variables. A spawner passes a list of these to a child; the child reads
  # them from its BootContext.

  name @0 :Text;
  # Chosen by the spawner; unique within one list (a duplicate name is rejected with
  # ERR_INVALID_ARGUMENT). Conventionally lower-case words separated by '-' or '/'.

  cap @1 :Capability;
  # The capability. A null capability is allowed and means "granted nothing under this
  # name": calls on it fail, as on any null capability.
}

struct Counter @0xe72725ce2cfc0ec2 {
  # A named monotonic or gauge figure, for stats and debug output.

  name @0 :Text;
  # Dotted name, e.g. "pubsub.delivered", "wasi.denied.path_open".

  value @1 :UInt64;
}

# ── Handles and revocation ─────────────────────────────────────────────────────────

interface Handle @0xbf6cf89c795e5036 {
  # Returned by every call that starts something that keeps running after the call
  # returns: a watch on the cluster view or an anchor subtree, a provider search, a
  # process monitor. Releasing the last reference to the Handle ends it as `cancel`
  # does, so a holder that crashes cleans up after itself.

  cancel @0 () -> ();
  # Ends the stream now. Returns once no further call will be made on the handler the
  # stream was started with (a call already in flight may still complete before this
  # returns). Idempotent: cancelling twice, or after the stream ended by itself, is a
  # no-op.
}

interface Revoker @0xc0d5a05f2500bd90 {
  # Returned beside every attenuated capability (`Host.attenuate`, `Topic.publishOnly`,
  # `Anchor.readOnly`, `Dialer.restrict`, …). Whoever made the attenuation keeps the
  # Revoker and hands out only the attenuated capability.
  #
  # Releasing a Revoker does NOT revoke: it only gives up the power to revoke.

  revoke @0 (reason :Text) -> ();
  # Revokes the attenuated capability and everything obtained through it (a Topic got
  # from a revoked PubSub, an Anchor walked from a revoked Anchor, …). From then on every
  # call on those fails with ERR_REVOKED; calls in flight fail with ERR_REVOKED too.
  # Subscriptions and watches made through them end, their handlers get `done` with the
  # reason. `reason` is for logs and the `done` calls; it is not interpreted.
  # Idempotent.
}

# ── Byte streams for stdio ─────────────────────────────────────────────────────────

interface ByteSink @0x8bab34631a7cf775 {
  # Where a process's output goes when its spawner grants a stream for fd 1 or 2
  # (instead of the default log sink). Explicit flow control: the writer calls `write`
  # again only after the previous call returned.

  write @0 (data :Data) -> ();
  # Returns when the sink has taken `data` (copied or forwarded it); until then the
  # writer sends nothing more. A sink that wants the writer to slow down simply returns
  # later. ERR_CLOSED once the sink is closed.

  close @1 () -> ();
  # End of stream: no more writes. Idempotent.
}

interface ByteSource @0x9642ec620bd56250 {
  # Where a process's input comes from when its spawner grants a stream for fd 0
  # (instead of the default: end of file).

  read @0 (max :UInt32) -> (data :Data, eof :Bool);
  # Returns at least one byte and at most `max`, waiting until some are available; or
  # `eof = true` with no data once the stream has ended (and on every later call).
  # Reads are answered in call order.
}

# ── Error reasons ──────────────────────────────────────────────────────────────────
#
# Every failure a ww host reports is an RPC exception whose `reason` starts with one of
# these codes, optionally followed by ": " and a human-readable detail, e.g.
# "ERR_CAP_DENIED: executor". Callers match on the code (the text up to the first ':'),
# never on the detail. The exception's `type` is `failed` unless said otherwise. See
# README.md for which calls raise which.

const errCapDenied :Text = "ERR_CAP_DENIED";
# The capability was withheld or attenuated away by whoever made it (a denied Host
# method, publish on a subscribe-only Topic, set on a read-only Anchor, dial to a
# destination not granted).

const errRevoked :Text = "ERR_REVOKED";
# The capability was revoked through its Revoker, or its holder process exited.

const errNotFound :Text = "ERR_NOT_FOUND";
# The named thing does not exist (a cid not in the cache, an unknown host id, a boot
# capability name that was not passed).

const errInvalidArgument :Text = "ERR_INVALID_ARGUMENT";
# The arguments are malformed (a path with "..", a Cid of the wrong length, an empty
# topic name, a duplicate capability name).

const errInvalidModule :Text = "ERR_INVALID_MODULE";
# The bytes are not a WebAssembly module the host can compile, or the module does not
# speak the ww ABI.

const errHostUnreachable :Text = "ERR_HOST_UNREACHABLE";
# The target host is not in the view, cannot be dialled, or left the cluster while the
# call was in flight. Exception type `disconnected`.

const errTimeout :Text = "ERR_TIMEOUT";
# The call's deadline passed before an answer came. The operation may or may not have
# taken effect.

const errLimit :Text = "ERR_LIMIT";
# A quota or bound was hit (cache full, too many processes, too many connections,
# message too large). Exception type `overloaded`.

const errClosed :Text = "ERR_CLOSED";
# The resource was closed (a Conn after close, a Listener after close, a Sink after
# close).

const errCanceled :Text = "ERR_CANCELED";
# The call was cancelled by its caller (the question was finished before its answer).
