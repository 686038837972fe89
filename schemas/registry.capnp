@0xb1980bbcce64b739;
# The service registry: a process *provides* a named service (a capability, kept alive by
# a TTL it refreshes), and any process holding a Registry *finds* the providers of a name,
# on this host or any other. Announcements travel over pubsub; the service capability
# itself stays hosted by the provider's host, and finders on other hosts get a proxy
# through it. Reached from `Host.registry()`.

using Common = import "common.capnp";

struct ProvideOptions @0xd222ebddc1b6ae41 {
  ttlMs @0 :UInt32 = 10000;
  # How long the announcement lives without a `refresh`. 1000 to 3600000 ms (0 means the
  # default, 10 s); outside that range is ERR_INVALID_ARGUMENT.

  meta @1 :List(Text);
  # Labels finders can see, each "key=value" (e.g. "version=2"). Informational; not
  # verified.
}

struct Provider @0xf6bfacd03f62e8c0 {
  # One provider of a name, as a finder sees it.

  name @0 :Text;
  # The name as provided (without the finder's registry prefix, see `Registry.scoped`).

  service @1 :Capability;
  # The provided capability. Calls fail with ERR_HOST_UNREACHABLE if the provider's host
  # is gone, and with ERR_REVOKED once the provision was released or expired.

  provider @2 :Common.ProcessRef;
  # Who provides it: set by the provider's host from the provider's identity.

  meta @3 :List(Text);
  # The provider's labels.

  expiresInMs @4 :UInt32;
  # Time left before the announcement expires unless refreshed, as of the answer.
}

interface ProviderHandler @0xc6b66c6dda51da23 {
  # Receives providers as a search finds them.

  found @0 (providers :List(Provider)) -> ();
  # One or more providers not yet reported by this search. At most one call is
  # outstanding: the next batch is sent after this returns. Throwing stops the search;
  # `findProviders` then fails with the same exception.
}

interface Provision @0xae2bb1831e2b53be {
  # A live announcement. Releasing the last reference withdraws it, as `cancel` does.

  refresh @0 (ttlMs :UInt32) -> ();
  # Extends the announcement by `ttlMs` from now (0: the ttl it was provided with). A
  # provision that already expired is announced again. Refresh at most every ttl/3.

  cancel @1 () -> ();
  # Withdraws the announcement on every host (as fast as pubsub carries it) and revokes
  # the service capability handed out to finders. Idempotent.
}

interface Registry @0xc9134401516c2885 {
  # Provide and find named services. A Registry may be attenuated: scoped to a name
  # prefix, and/or find-only or provide-only (the denied method fails with
  # ERR_CAP_DENIED).

  provide @0 (name :Text, service :Capability, options :ProvideOptions) -> (provision :Provision);
  # Announces `service` under `name` (1 to 256 bytes of UTF-8) until the provision is
  # cancelled, released, or expires, or the providing process exits. Several providers
  # may share a name; one process providing the same name twice makes two provisions.

  findProviders @1 (name :Text, handler :ProviderHandler, limit :UInt32, waitMs :UInt32) -> (count :UInt32);
  # Searches the cluster for providers of `name` and streams them to `handler` as they
  # are found, local ones first. Returns the number reported once `limit` providers were
  # found (0: no limit) or `waitMs` passed (0: the default, 1000 ms), whichever is first.
  # Not finding any is not an error (count 0).

  find @2 (name :Text, limit :UInt32, waitMs :UInt32) -> (providers :List(Provider));
  # As `findProviders`, but collects the providers into one answer. `limit` 0 means 100.

  scoped @3 (prefix :Text) -> (registry :Registry, revoker :Common.Revoker);
  # A registry confined to names under `prefix`: its names are prefixed ("prefix/" +
  # name) when provided and found, and results carry the unprefixed name. Scopes nest.

  findOnly @4 () -> (registry :Registry, revoker :Common.Revoker);
  # A registry that can find but not provide.

  provideOnly @5 () -> (registry :Registry, revoker :Common.Revoker);
  # A registry that can provide but not find.
}
