@0xa0b698dbb11f612e;
# Processes: spawning (Executor), the content-addressed bytecode cache, the Process
# capability a spawner gets back (wait, kill, monitor), how a process ends (ExitStatus),
# and how a process learns who it is and what it holds (BootContext).
#
# Processes form a tree. A process's parent is whoever called `exec`, taken from the
# identity bound to the Executor capability the call came through (each process's Host
# hands it an Executor bound to that process), never from the call's arguments. When a
# process ends, its descendants are killed (`KillReason.parentExited`).

using Common = import "common.capnp";
using Cluster = import "cluster.capnp";
using PubSub = import "pubsub.capnp";
using Anchor = import "anchor.capnp";
using Registry = import "registry.capnp";
using Net = import "net.capnp";

# ── What a child is given ──────────────────────────────────────────────────────────

struct HostRights @0x873641b14a2341d6 {
  # Which capabilities a Host offers. A Host method whose right is false fails with
  # ERR_CAP_DENIED. Rights only narrow: a child's rights, and the rights of an attenuated
  # Host, are the intersection of what was asked and what the giver has.

  view @0 :Bool;
  pubSub @1 :Bool;
  root @2 :Bool;
  registry @3 :Bool;
  executor @4 :Bool;
  bytecodeCache @5 :Bool;
  debug @6 :Bool;
  # Debug is never granted by default: a spawner must ask for it, and must hold it.

  dialer @7 :Bool;
}

struct HostOverrides @0xe9c48da2f023241a {
  # Capabilities that replace the giver's own in a child's (or attenuated) Host. Each is
  # optional (null: keep the giver's own, if the right is granted). A non-null override
  # counts as granted whatever HostRights says: the giver already holds it, so passing it
  # on is delegation, not amplification. Typical: `root` set to a read-only subtree.

  view @0 :Cluster.View;
  pubSub @1 :PubSub.PubSub;
  root @2 :Anchor.Anchor;
  registry @3 :Registry.Registry;
  dialer @4 :Net.Dialer;
}

struct Preopen @0xf69a15cc77748b8a {
  # A socket a spawner hands in as a pre-opened fd (as `wasmtime --tcplisten`).

  name @0 :Text;
  # The name the process finds it under in its BootContext (e.g. "http").

  union {
    listener @1 :Net.Listener;
    # A listening socket: `sock_accept` on its fd yields connection fds.

    conn @2 :Net.Conn;
    # An already connected stream.
  }
}

struct NetGrants @0xa60c1b7891f4c0e2 {
  # Bounds on the sockets of one process.

  maxConns @0 :UInt32 = 256;
  # Open connections at once (accepted plus dialled).

  bufferBytes @1 :UInt32 = 65536;
  # Bytes buffered per connection in each direction.

  idleTimeoutMs @2 :UInt32 = 60000;
  # A connection with no traffic for this long is closed (0: never).
}

struct Grants @0xd524a0defbeb4c9c {
  # What widens a process's default WASI policy (see the design's syscalls.md), plus its
  # limits. Zero values mean "the host's default". Limits never exceed the host's
  # per-process maxima, and a child's deadline and CPU budget never reach past its
  # parent's; asking for more is ERR_CAP_DENIED.

  scratchBytes @0 :UInt64;
  # Size of the volatile scratch directory (in memory, destroyed with the process;
  # pre-opened as "/" on fd 3, before the preopened sockets: wasi-libc looks for
  # preopened dirs from fd 3 up to the first EBADF). 0: no scratch directory, every path
  # call is ENOTCAPABLE.

  scratchInodes @1 :UInt32;
  # Files and directories the scratch directory may hold (0: 1024 when scratchBytes > 0).

  clock :union {
    real @2 :Void;
    # The real clocks (default).

    virtual :group {
      # A deterministic clock for replay and tests: starts at `startNs` and advances only
      # by `stepNs` per clock read and by the sleeps the process performs.
      startNs @3 :UInt64;
      stepNs @4 :UInt64;
    }
  }

  rng :union {
    crypto @5 :Void;
    # The host's cryptographic RNG (default).

    seeded @6 :Data;
    # A deterministic RNG from this seed (up to 32 bytes), for replay and tests. Never
    # use for secrets.
  }

  memoryBytes @7 :UInt64;
  # Cap on linear memory; a `memory.grow` past it fails (returns -1) as the host's
  # policy says, or ends the process with `limitExceeded(memory)`.

  timeoutMs @8 :UInt64;
  # Wall-clock deadline from start; when it passes the process ends with
  # `limitExceeded(wallTime)`. 0: none.

  cpuBudgetMs @9 :UInt64;
  # CPU time the process may consume (metered); past it the process ends with
  # `limitExceeded(cpu)`. 0: none.

  stdin @10 :Common.ByteSource;
  # fd 0. Null: end of file.

  stdout @11 :Common.ByteSink;
  # fd 1. Null: the spawner's log sink, tagged with the process id.

  stderr @12 :Common.ByteSink;
  # fd 2. Null: as stdout's default.

  net @13 :NetGrants;
  # Socket limits (null: the defaults above).
}

struct Bytecode @0x9da34fea3f6d8bcd {
  # The module to run.

  union {
    inline @0 :Data;
    # The module's bytes. The executor also puts them in the target host's bytecode
    # cache, so a later exec can name them by cid.

    cid @1 :Common.Cid;
    # A content id. Resolved from the target host's cache, then from the calling host's;
    # ERR_NOT_FOUND if neither has it.
  }
}

struct ExecOptions @0xe1a2f7163959e376 {
  # How to run a module. Every field is optional.

  where @0 :Common.HostId;
  # The host to run on. Empty: this host. ERR_HOST_UNREACHABLE if it is not in the view
  # or cannot be reached; the child's parent is still the caller.

  name @1 :Text;
  # A label for listings (`ps`, ProcessInfo). Not unique, confers nothing.

  args @2 :Data;
  # An opaque argument blob the child reads from its BootContext (`args()`). Not
  # interpreted by the host; WASI `args_get` still returns nothing.

  caps @3 :List(Common.NamedCap);
  # Named capabilities the child finds in its BootContext. Passing a capability is
  # delegation: the child can do with it what the caller can. At most 64, names of 1 to
  # 128 bytes (ERR_LIMIT, ERR_INVALID_ARGUMENT). Held for the child until it ends.

  rights @4 :HostRights;
  # Which capabilities the child's own Host offers (intersected with the caller's).
  # Null: only `view` and `pubSub`. The child's Host is a fresh one bound to the child's
  # identity; it is never the caller's Host.

  overrides @5 :HostOverrides;
  # Capabilities that replace the defaults in the child's Host (e.g. a read-only
  # subtree as its root anchor); a non-null one counts as granted. Held as `caps` are.

  grants @6 :Grants;
  # WASI widenings and limits. Null: the defaults (no scratch dir, real clock, crypto
  # RNG, host default memory cap, no deadline).

  preopens @7 :List(Preopen);
  # Sockets handed in as pre-opened fds, after stdio and the scratch dir: listeners
  # first, then connections, each in this order (BootInfo.preopens gives each fd). At
  # most 64, names of 1 to 128 bytes, unique, no null capability (ERR_LIMIT,
  # ERR_INVALID_ARGUMENT). Held for the child until it ends; its end closes them.
}

# ── How a process ends ─────────────────────────────────────────────────────────────

enum TrapKind @0xf183ffbdf481bc69 {
  # Why a process trapped. `other` carries details in `ExitStatus.trapped.message`.

  unreachable @0;
  memoryOutOfBounds @1;
  tableOutOfBounds @2;
  indirectCallMismatch @3;
  divideByZero @4;
  integerOverflow @5;
  invalidConversion @6;
  stackOverflow @7;
  nullReference @8;
  badFrame @9;
  # It broke the guest ABI: a malformed frame, a pointer outside its memory, a frame
  # over the size limit (transport ERR_BAD_FRAME / ERR_LIMIT).

  other @10;
}

enum KillReason @0x83e2099d996515f2 {
  # Who or what killed a process.

  requested @0;
  # `Process.kill()` on it or an ancestor.

  parentExited @1;
  # Its parent ended; children do not outlive their parent.

  hostShutdown @2;
  # Its host is shutting down.

  revoked @3;
  # Its spawner's authority was revoked (e.g. the Executor it was spawned through).
}

enum Limit @0xc5caec6391011c12 {
  # Which limit a process exceeded.

  memory @0;
  # Grants.memoryBytes (or the host's cap) on `memory.grow`.

  cpu @1;
  # Grants.cpuBudgetMs.

  wallTime @2;
  # Grants.timeoutMs.

  mailbox @3;
  # Its incoming message queue overflowed where the policy says to kill.

  scratch @4;
  # The scratch directory's byte or inode quota, where the policy says to kill.

  output @5;
  # Its log output exceeded the per-process bound, where the policy says to kill.

  frames @6;
  # Too many outstanding RPC questions or capabilities held.

  restarts @7;
  # A supervisor's children restarted more often than its intensity allows.
}

struct ExitStatus @0xb249f16aa0383d12 {
  # How a process ended. Exactly one of these.

  union {
    exited @0 :UInt32;
    # It ended on its own: `proc_exit(code)`, or its entry point returned (code 0).

    trapped :group {
      # A WebAssembly trap or an ABI violation. Never affects the host or other
      # processes.
      kind @1 :TrapKind;
      message @2 :Text;
      # The engine's message, for humans.

      code @9 :Text;
      # The stable `ERR_…` code of what ended it (ERR_GUEST_TRAP, ERR_GUEST_ABI,
      # ERR_GUEST_MEMORY, ERR_BAD_FRAME…); empty when unknown. Read `kind` and `code`,
      # never the message.
    }

    killed :group {
      # Someone or something ended it.
      reason @3 :KillReason;
      by @4 :Common.ProcessRef;
      # The process whose `kill` started it, for `requested` (pid 0: the host or its
      # embedder); empty otherwise.
    }

    limitExceeded :group {
      which @5 :Limit;
      detail @6 :Text;
      # For humans, e.g. "memory.grow to 512 MiB, cap 256 MiB".
    }

    hostLost @7 :Common.HostId;
    # The host it ran on left the cluster (or became unreachable) before reporting an
    # exit: its fate is unknown, and it is treated as dead (its subtree is killed).

    failedToStart @8 :Text;
    # It never ran: instantiation failed (a missing import, a start function that
    # trapped, out of memory at instantiation). The text says why.
  }
}

# ── Processes ──────────────────────────────────────────────────────────────────────

enum ProcessState @0xb11ffc8a8ce2b2c9 {
  starting @0;
  # Compiling or instantiating.

  running @1;
  # Runnable or running on a worker.

  waiting @2;
  # Suspended in `ww.recv`, a sleep, or a blocking socket call.

  exited @3;
  # Ended; `wait` answers at once.
}

struct Denial @0xe4d48fbe0f3dbceb {
  # How often a process was refused one WASI function.

  syscall @0 :Text;
  # The preview1 function name, e.g. "path_open".

  count @1 :UInt64;
}

struct ProcessInfo @0xbea686d0c889d21d {
  # A snapshot of one process, for `ps`.

  self @0 :Common.ProcessRef;
  parent @1 :Common.ProcessRef;
  name @2 :Text;
  cid @3 :Common.Cid;
  state @4 :ProcessState;
  startedAtMs @5 :UInt64;
  # Milliseconds since the Unix epoch.

  cpuTimeNs @6 :UInt64;
  memoryBytes @7 :UInt64;
  # Current linear memory size.

  messagesIn @8 :UInt64;
  messagesOut @9 :UInt64;
  # Cap'n Proto RPC frames on its connection to its host: in = received by the process,
  # out = sent by it.

  denials @10 :List(Denial);
  # WASI calls refused by its policy, per function (only functions with count > 0).

  status @11 :ExitStatus;
  # Set when `state` is exited.

  fuel @12 :UInt64;
  # Fuel consumed (about one unit per wasm expression executed), where the runtime meters.

  worker @13 :Int32 = -1;
  # The index of the worker thread it runs on; -1 when it runs on the host's own thread
  # (or the host does not say).
}

interface ExitHandler @0xb889a3245358f6cc {
  # The handler of `Process.monitor`.

  exited @0 (process :Common.ProcessRef, status :ExitStatus) -> ();
  # Called exactly once, when the monitored process has ended (at once if it already
  # had). Not called if the monitor was cancelled first.
}

interface Process @0x9ee058863cc24562 {
  # A spawned process. Held by its spawner, and by whoever the spawner passes it to.
  # Releasing every reference does NOT kill the process (use `kill`); it ends by itself,
  # by kill, or with its parent.

  pid @0 () -> (self :Common.ProcessRef);
  # Its host and pid.

  wait @1 () -> (status :ExitStatus);
  # Returns when the process has ended, with how it ended. Idempotent and safe to call
  # concurrently: every call gets the same status, and calls after the end answer at
  # once. A wait on a process on another host answers `hostLost` if that host leaves.

  kill @2 () -> ();
  # Kills the process and its whole subtree (`killed(requested)`, `by` = the caller).
  # Returns once all of them have ended. A no-op on a process that already ended.

  monitor @3 (handler :ExitHandler) -> (handle :Common.Handle);
  # Calls `handler.exited` once when the process ends, with its status (BEAM's
  # monitor: the watcher is not affected by the death). Cancel or release the handle to
  # stop monitoring.

  info @4 () -> (info :ProcessInfo);
  # A snapshot of its state and counters.

  bootstrap @5 () -> (cap :Capability);
  # The capability the process offers to whoever holds it (its RPC bootstrap; a guest
  # offers one with the SDK's `Session.offer`), of whatever interface the process chose.
  # Usable at once: calls on it are pipelined until the process answers. Fails with
  # ERR_NOT_FOUND when the process offers none, ERR_CLOSED once it has ended.
}

interface Executor @0xff2f06c1cdf4761a {
  # The power to spawn processes. Bound to one caller identity: every process spawned
  # through it is a child of that identity.

  exec @0 (bytecode :Bytecode, options :ExecOptions) -> (process :Process);
  # Starts a process and returns its capability as soon as it is created (state
  # `starting`): the module compiles and runs asynchronously, and a failure from then on
  # is reported by `wait` (`failedToStart`, `trapped`, …). Fails at once with
  # ERR_INVALID_MODULE (bytes that do not compile), ERR_NOT_FOUND (unknown cid),
  # ERR_HOST_UNREACHABLE (`where`), ERR_CAP_DENIED (rights or grants beyond the
  # caller's), ERR_LIMIT (the host's process limit).

  ps @1 () -> (processes :List(ProcessInfo));
  # The caller's live descendants, on every host, in spawn order.
}

interface BytecodeCache @0xd59a4f95d52d50cc {
  # Content-addressed module storage on one host, bounded in bytes. Least recently used
  # modules are evicted when full, except those a live process runs from.

  put @0 (bytecode :Data) -> (cid :Common.Cid);
  # Stores the module and returns its BLAKE3-256 digest. Idempotent (the same bytes give
  # the same cid). ERR_INVALID_MODULE if the bytes do not validate as a WebAssembly
  # module; ERR_LIMIT if larger than the cache's module size limit.

  get @1 (cid :Common.Cid) -> (bytecode :Data);
  # The module's bytes. ERR_NOT_FOUND if not cached (here).

  has @2 (cid :Common.Cid) -> (present :Bool);
  # Whether the module is cached here. Never throws ERR_NOT_FOUND.
}

# ── What a process knows about itself ──────────────────────────────────────────────

struct BootInfo @0x9a16ac0cd4638422 {
  # Everything BootContext tells, in one answer.

  self @0 :Common.ProcessRef;
  parent @1 :Common.ProcessRef;
  cid @2 :Common.Cid;
  # The module it runs.

  name @3 :Text;
  args @4 :Data;
  caps @5 :List(Common.NamedCap);
  preopens @6 :List(PreopenInfo);
  grants @7 :Grants;
  # The grants in force (with defaults filled in; stream capabilities left null).
}

struct PreopenInfo @0xdd1733554213487f {
  # A pre-opened socket as the process sees it.

  name @0 :Text;
  fd @1 :UInt32;
  # Its WASI fd (see ExecOptions.preopens: after the scratch dir, listeners first).

  union {
    listener @2 :Net.Listener;
    conn @3 :Net.Conn;
  }
}

interface BootContext @0xfabd87169f2691c5 {
  # How a process learns who it is and what it holds, instead of argv and the
  # environment. Reached from `Host.bootContext()`; never denied. Bound to one process.

  info @0 () -> (info :BootInfo);
  # All of it in one round trip.

  self @1 () -> (self :Common.ProcessRef);
  # This process's host and pid.

  parent @2 () -> (parent :Common.ProcessRef);
  # The spawner (pid 0: the host's embedder spawned it directly).

  args @3 () -> (args :Data);
  # The spawner's argument blob (empty if none).

  caps @4 () -> (caps :List(Common.NamedCap));
  # The named capabilities the spawner passed, in the spawner's order.

  cap @5 (name :Text) -> (cap :Capability);
  # The capability passed under `name`. ERR_NOT_FOUND if none was.
}
