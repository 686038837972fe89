@0xbecc117602b40c05;
# An example of a user's own interface, not part of @ww/schema: a key-value store a
# guest serves and other guests (or any Cap'n Proto peer) find in the registry and call.

interface Kv @0x88d40ffc4008b236 {
  get @0 (key :Text) -> (value :Data, found :Bool);
  # The value stored under `key`; `found` is false (and `value` null) when there is none.

  put @1 (key :Text, value :Data) -> (version :UInt64);
  # Stores `value` under `key`; `version` counts every put this store has taken.

  keys @2 () -> (keys :List(Text));
  # Every key, in sorted order.

  sub @3 (prefix :Text) -> (kv :Kv);
  # A view of the keys under `prefix` (the prefix added on every get and put): a call
  # whose result is a capability, so callers pipeline on it before the answer arrives.
}
