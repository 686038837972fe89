@0x9cdd4b2515f2a17e;
# Introspection of one host: versions, counters, every process. Off for guests: a Host
# offers `debug()` only when its spawner asked for the `debug` right and held it itself
# (the host's embedder holds it). Reached from `Host.debug()`.

using Common = import "common.capnp";
using Process = import "process.capnp";

struct SysInfo @0x8197c71a62bfd43f {
  # Facts about the host and the machine it runs on.

  host @0 :Common.HostId;
  version @1 :Text;
  # The ww version.

  node @2 :Text;
  # Node.js version (e.g. "v20.20.2").

  v8 @3 :Text;
  platform @4 :Text;
  # "linux", "darwin", …

  arch @5 :Text;
  # "x64", "arm64", …

  cpus @6 :UInt16;
  workers @7 :UInt16;
  # Worker threads running guests.

  uptimeMs @8 :UInt64;
  suspender @9 :Text;
  # How guests wait: "jspi" or "asyncify" (see the transport ABI).

  cluster @10 :Text;
  # "embedded" or "libp2p".

  memoryRss @11 :UInt64;
  memoryHeapUsed @12 :UInt64;
  # Bytes, from the host process.

  counters @13 :List(Common.Counter);
  # Every counter the host keeps (processes spawned, frames, copies, pubsub deliveries
  # and drops, WASI denials, …).
}

interface Debug @0x989cb1f81395aa70 {
  # Read-only introspection. Nothing here changes the host.

  sysInfo @0 () -> (info :SysInfo);
  # Versions, machine facts and all counters.

  counters @1 (prefix :Text) -> (counters :List(Common.Counter));
  # The counters whose name starts with `prefix` ("" for all), sorted by name.

  ps @2 () -> (processes :List(Process.ProcessInfo));
  # Every live process on this host (not only the caller's descendants), by pid.
}
