@0xce1dcf0cccaaf7e7;
# Anchors: a shared, hierarchical path tree whose nodes hold values (bytes or a
# capability). Reached from `Host.root()`, which returns the root of the tree the holder
# may see (an attenuated Host may root it at a subtree).
#
# An Anchor can only reach down: `walk` takes relative paths and there is no parent
# access, so an Anchor for "/apps/foo" confers nothing above it. The tree is shared by
# the cluster: a value set on one host is read and watched on every other.
#
# Paths: segments separated by '/'. A segment is 1 to 255 bytes of UTF-8 without '/' or
# NUL, and is neither "." nor "..". Absolute paths (shown by `path()`) start with '/';
# the root is "/".

using Common = import "common.capnp";

struct Value @0xbb2a389bfbe151c9 {
  # What a node holds.

  union {
    none @0 :Void;
    # Nothing: the node is empty (it may still have children).

    data @1 :Data;
    # Bytes, at most the host's anchor value limit (64 KiB by default; more is ERR_LIMIT).
    # Replicated to every host; readers get the same immutable bytes.

    cap @2 :Capability;
    # A capability. It stays hosted where it was set: readers on other hosts get a proxy
    # through that host, and calls on it fail with ERR_HOST_UNREACHABLE while that host
    # is gone. Setting a capability lends it to every reader of the node.
  }
}

struct Child @0xfd488806dd23ef40 {
  # One entry of `ls`.

  name @0 :Text;
  # The child's segment name (not a path).

  hasValue @1 :Bool;
  # Whether the child holds a value (not `none`).

  hasChildren @2 :Bool;
  # Whether the child has children of its own.
}

enum ChangeKind @0x8d3f7bedcc0d29e7 {
  set @0;
  # The node's value was set (to data or a capability).

  cleared @1;
  # The node's value was cleared (set to `none`).
}

struct Change @0xe853bb050699b700 {
  # One change seen by a watch.

  path @0 :Text;
  # The changed node, relative to the watched anchor ("" for the watched anchor itself,
  # "a/b" below it).

  kind @1 :ChangeKind;

  version @2 :UInt64;
  # The node's version after the change (see `Anchor.get`).

  value @3 :Data;
  # The new bytes, when the watch asked for `withValues` and the value is data; empty
  # otherwise (capabilities are never pushed: `walk` and `get` to obtain one).
}

interface Watcher @0xe764facfae32700c {
  # The handler of `Anchor.watch`, implemented by the watcher.

  changed @0 (changes :List(Change)) -> ();
  # Changes in the order they were applied, per node. At most one call is outstanding
  # per watch: the next batch is sent after this returns. While a call is outstanding,
  # successive changes to the same node coalesce to the latest (its `version` shows how
  # many were skipped). Throwing ends the watch (no `done` follows).

  done @1 (reason :Text) -> ();
  # The watch ended for a reason other than its own cancel: revocation ("ERR_REVOKED:
  # …"), the watcher's process exiting, host shutdown. Last call.
}

interface Anchor @0x809f2cf4aac7da14 {
  # One node of the tree, and through it its subtree. May be read-only; then `set` and
  # `compareAndSet` fail with ERR_CAP_DENIED, and everything walked from it
  # is read-only too.
  #
  # Nodes exist implicitly: `walk` to any valid path succeeds. A node that holds no
  # value, has no children holding values, and is not referenced by any live Anchor is
  # removed (reference-counted cleanup); `ls` never shows such nodes.

  path @0 () -> (path :Text);
  # The node's absolute path ("/" for the root of the whole tree). Informational only:
  # knowing a path confers nothing.

  ls @1 (cursor :Text, limit :UInt32) -> (children :List(Child), next :Text);
  # The node's children, ordered by name (byte order), one page at a time: start with an
  # empty `cursor`, continue with `next`, stop when `next` is empty. `limit` 0 means the
  # default page (256). A snapshot per page; children added or removed between pages may
  # be missed or not, but none is listed twice.

  walk @2 (path :Text) -> (anchor :Anchor);
  # The descendant at the relative `path` ("a/b/c"; "" returns an anchor for this same
  # node). A leading '/', an empty, "." or ".." segment, or a segment too long is
  # ERR_INVALID_ARGUMENT. The result has this anchor's rights (read-only stays
  # read-only) and is revoked with it.

  get @3 () -> (value :Value, version :UInt64);
  # The node's value and version. Version 0 means the node never held a value; every
  # set or clear increases it.

  set @4 (value :Value) -> (version :UInt64);
  # Replaces the node's value (`none` clears it) and returns the new version. Writes to
  # one node are totally ordered cluster-wide (each gets the next version) and every
  # host converges to the latest; a watcher on any host sees them in version order.

  compareAndSet @5 (value :Value, expected :UInt64) -> (swapped :Bool, version :UInt64);
  # Sets the value only if the node's version is still `expected` (0: the node never
  # held a value). Returns whether it did, and the version now. Atomic per node
  # cluster-wide: of two compareAndSet calls expecting the same version, one swaps.

  watch @6 (watcher :Watcher, subtree :Bool, withValues :Bool) -> (handle :Common.Handle);
  # Streams changes to this node (and, with `subtree`, to every descendant) to
  # `watcher`, starting after the call returns; no history. With `withValues`, data
  # values ride along in each Change. Ends on `handle.cancel()`, release of the handle,
  # the watcher throwing, or `done`.

  readOnly @7 () -> (anchor :Anchor, revoker :Common.Revoker);
  # A read-only capability to the same node (and its subtree).

  writable @8 () -> (writable :Bool);
  # Whether `set` is allowed on this capability.
}
