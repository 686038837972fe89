@0xa82274983438d007;
# Sockets as capabilities. A process has no ambient network: it can accept only on a
# Listener its spawner handed in (bound by the spawner on an address the spawner chose),
# and dial only the destinations a Dialer names. Inside a guest the same objects also
# appear as WASI socket fds (pre-opened listeners from fd 3 upward, see
# `process.capnp` `Preopen`); this file is their RPC face.
#
# Addresses are "host:port" strings: an IPv4 literal, a bracketed IPv6 literal
# ("[::1]:8080"), or a DNS name. Grants compare them literally: a Dialer granted
# "127.0.0.1:80" does not reach "localhost:80".
#
# Limits (set by the spawner's grants, see `process.capnp` `NetGrants`): open
# connections per process, bytes buffered per connection, idle timeout. A connection
# idle for longer than its timeout is closed; its pending reads return eof.

using Common = import "common.capnp";

enum ShutdownHow @0xd269c10a6cc4be4a {
  read @0;
  # No more reads: pending and later reads return eof.

  write @1;
  # No more writes: the peer reads eof once the buffered bytes are sent (TCP FIN).

  both @2;
}

interface Conn @0xe3998500c10f8266 {
  # One connected byte stream (TCP). Held only by the process that accepted or dialled
  # it, unless that process passes the capability on. Releasing the last reference
  # closes it (as `close`). The process's exit closes all its connections; the peer sees
  # a clean close (FIN), not a reset.

  read @0 (max :UInt32) -> (data :Data, eof :Bool);
  # Waits until at least one byte is available, then returns up to `max` bytes (`max`
  # 0 means 64 KiB). Returns `eof = true` and no data once the peer has closed its side
  # (and on every later call). Reads are answered in call order. The host reads from the
  # socket only while a read is pending or its per-connection buffer has room: a slow
  # reader pauses the peer (TCP flow control), it never makes the host buffer without
  # bound.

  write @1 (data :Data) -> ();
  # Queues `data` for sending and returns when the connection's send buffer has taken
  # it: while the buffer is full (the peer reads slowly) the call does not return. Writes
  # are sent in call order. ERR_CLOSED after `close` or `shutdown(write)`; ERR_CLOSED with
  # detail "reset" if the peer reset the connection.

  shutdown @2 (how :ShutdownHow) -> ();
  # Half-closes (or fully closes, `both`) without releasing the capability.

  close @3 () -> ();
  # Flushes what was written, then closes both directions. Pending reads return eof,
  # later writes fail with ERR_CLOSED. Idempotent.

  addrs @4 () -> (local :Text, remote :Text);
  # The two ends, as "host:port".
}

interface Listener @0xa12f4e645013b6c2 {
  # A bound, listening TCP socket. Bound by the spawner on an address it chose and
  # handed to exactly one process; no other process can accept on it unless given the
  # capability. Releasing the last reference (or the holder's exit) closes it.

  accept @0 () -> (conn :Conn);
  # Waits for the next incoming connection and returns it. Concurrent accepts are
  # answered in call order. While the process is at its open-connection limit, accept
  # waits (clients queue in the kernel's backlog) rather than failing. ERR_CLOSED once
  # the listener is closed (pending accepts fail too).

  addr @1 () -> (addr :Text);
  # The bound address as "host:port" (with the real port if the spawner bound port 0).

  close @2 () -> ();
  # Stops listening. Connections already accepted stay open. Idempotent.
}

interface Binder @0xced16ff3d061306f {
  # The power to bind listeners, confined to the addresses it was granted. Used by
  # spawners that want a process to open its own listeners later; most processes get a
  # ready Listener instead.

  bind @0 (addr :Text, backlog :UInt32) -> (listener :Listener);
  # Binds and listens on `addr`, which must be one of `allowed()` (else ERR_CAP_DENIED).
  # `backlog` 0 means the host's default (511). ERR_LIMIT if the address is in use.

  allowed @1 () -> (addrs :List(Text));
  # The addresses this binder may bind.
}

interface Dialer @0x830324a3b6d06f8c {
  # The power to open outbound connections, to the named destinations only.

  dial @0 (addr :Text, timeoutMs :UInt32) -> (conn :Conn);
  # Connects to `addr`, which must be one of `allowed()` (else ERR_CAP_DENIED, and no
  # packet is sent). `timeoutMs` 0 means the host's default (10 s); ERR_TIMEOUT when it
  # passes, ERR_HOST_UNREACHABLE when the connection is refused or the name does not
  # resolve, ERR_LIMIT at the process's open-connection limit.

  allowed @1 () -> (addrs :List(Text));
  # The destinations this dialer may reach.

  restrict @2 (addrs :List(Text)) -> (dialer :Dialer, revoker :Common.Revoker);
  # A dialer allowed only `addrs`, each of which must already be allowed here (else
  # ERR_CAP_DENIED: attenuation never widens).
}
