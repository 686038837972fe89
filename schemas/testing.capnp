@0xc783e62618a00a02;
# Interfaces that exist only to test and measure the RPC path itself (transport, guest
# SDK, benchmarks). Nothing in a real host serves them to guests.

interface Echo @0x8fd629c338ff292b {
  ping @0 () -> ();
  # The null call: no parameters, no results. Its round trip is the floor of every
  # cluster syscall.

  echo @1 (payload :Data) -> (payload :Data);
  # Sends `payload` back unchanged: bytes there and back (payload benchmarks).

  counter @2 (start :UInt64) -> (counter :Counter);
  # A new Counter starting at `start`: a call whose result is a capability, so a
  # caller can pipeline on it before the answer arrives.
}

interface Counter @0xbda3e0f1a3acda10 {
  add @0 (n :UInt64) -> (total :UInt64);
  # Adds `n` and returns the running total.
}
