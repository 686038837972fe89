@0xb456633c83de00a8;
# Publish/subscribe: named topics, cluster-wide (gossipsub between hosts). Reached from
# `Host.pubSub()`.
#
# Guarantees: every subscriber receives the messages of one publisher in the order that
# publisher's `publish` calls returned; there is no order between publishers. Across
# hosts delivery is at-most-once while a host is partitioned away; within one host,
# nothing is lost except what a subscriber's own overflow policy drops, and every drop
# is counted and reported to that subscriber.
#
# A message is copied once out of the publisher's memory into an immutable host buffer;
# every local subscriber receives those same bytes.

using Common = import "common.capnp";

interface PubSub @0x95294b7b56260eed {
  # The power to join topics by name. Note: any topic name can be joined by whoever holds
  # this; to confine a process to some topics, hand it the Topic capabilities (or
  # publish-only / subscribe-only attenuations of them) instead of a PubSub.

  join @0 (name :Text) -> (topic :Topic);
  # The topic called `name` (1 to 256 bytes of UTF-8; else ERR_INVALID_ARGUMENT).
  # Joining the same name twice gives two capabilities to the same topic. This host
  # leaves the topic's gossip mesh when the last Topic for it is released and it has no
  # subscriptions left.
}

struct Message @0xc0f727c220e281df {
  # One published message as a subscriber receives it.

  data @0 :Data;
  # The payload, exactly as published. At most the host's message size limit (1 MiB by
  # default; larger publishes fail with ERR_LIMIT).

  publisher @1 :Common.ProcessRef;
  # Who published it: set by the publisher's host from the publisher's identity, never
  # taken from the publisher's call. Pid 0 means the host itself.

  seq @2 :UInt64;
  # The publisher's sequence number on this topic, from 1, increasing by 1 per publish:
  # a gap means messages were dropped (by this subscriber's overflow policy, or lost
  # across hosts).
}

enum Overflow @0xfb07f937eac6c4eb {
  # What the host does when a subscriber's queue is full (its handler is slower than the
  # publishers).

  block @0;
  # Backpressure: publishes on this host wait (their `publish` calls do not return)
  # until the queue has room. Messages from other hosts wait in that host's link buffer;
  # when it is full they are dropped and counted. Lossless locally; a slow subscriber
  # slows the local publishers of the topic.

  dropOldest @1;
  # Make room by discarding the oldest queued message. Publishers never wait; the
  # subscriber sees the most recent messages.

  dropNewest @2;
  # Discard the incoming message. Publishers never wait; the subscriber keeps the oldest
  # messages.
}

struct SubscribeOptions @0x98a6c2a924d87983 {
  # How one subscription queues and delivers.

  bufferSize @0 :UInt32 = 32;
  # Messages queued for this subscriber, waiting for its handler, before `overflow`
  # applies. 1 to 65536 (0 means the default, 32).

  overflow @1 :Overflow = block;
  # The policy when the queue is full.

  maxBatch @2 :UInt32 = 64;
  # At most this many messages per `Subscriber.deliver` call (0 means the default, 64).
  # Batches amortise the round trip: the host sends whatever is queued, up to this.

  includeOwn @3 :Bool = true;
  # Whether messages the subscribing process published itself are delivered to it.
}

interface Subscriber @0x9c0d6e7ffdbf659d {
  # The subscriber's handler: implemented by the subscriber, called by the host.

  deliver @0 (messages :List(Message), dropped :UInt64) -> ();
  # The next queued messages, in order (1 to `maxBatch` of them). `dropped` counts the
  # messages this subscription's overflow policy discarded since the previous `deliver`.
  # At most one call is outstanding per subscription: the host sends the next batch only
  # after this call returns, so return when you have taken the messages. Throwing ends
  # the subscription (no `done` follows).

  done @1 (reason :Text) -> ();
  # The subscription ended for a reason other than its own cancel/release: revocation
  # ("ERR_REVOKED: …"), the subscribing process exiting, or the host shutting down. Sent
  # after the last `deliver`; last call.
}

interface Subscription @0xa2b2ceb62f8b0019 {
  # A live subscription. Releasing the last reference unsubscribes (as `cancel`).

  cancel @0 () -> ();
  # Unsubscribes. Queued messages not yet delivered are discarded. Returns once no
  # further `deliver` will be made. Idempotent.

  stats @1 () -> (delivered :UInt64, dropped :UInt64, queued :UInt32);
  # Messages delivered so far, dropped so far, and waiting in the queue now.
}

interface Topic @0xbd1a58ddabcb6d7b {
  # One topic. May be attenuated to publish-only or subscribe-only; the denied methods
  # then fail with ERR_CAP_DENIED. Attenuation never widens: `publishOnly` on a
  # subscribe-only Topic (and vice versa) fails with ERR_CAP_DENIED.

  name @0 () -> (name :Text);
  # The topic's name. Always allowed.

  publish @1 (msg :Data) -> ();
  # Publishes one message. Returns once the host has copied it and queued it for every
  # local subscriber and for the gossip mesh; with a `block` subscriber whose queue is
  # full, that waits (backpressure). Publishes made through one Topic capability keep
  # their call order (Cap'n Proto E-order), so a publisher may pipeline several; one
  # that awaits each call never has more than one in flight. ERR_LIMIT if `msg` is
  # larger than the host's message size limit.

  publishMany @2 (msgs :List(Data)) -> ();
  # As `publish` for each message in order, in one call: the same guarantees, fewer
  # round trips.

  subscribe @3 (handler :Subscriber, options :SubscribeOptions) -> (subscription :Subscription);
  # Starts delivering messages published from now on to `handler`. No history is
  # replayed. Each subscription has its own queue and policy.

  canPublish @4 () -> (allowed :Bool);
  # Whether `publish` is allowed on this capability.

  canSubscribe @5 () -> (allowed :Bool);
  # Whether `subscribe` is allowed on this capability.

  publishOnly @6 () -> (topic :Topic, revoker :Common.Revoker);
  # A capability to the same topic that can only publish (and call `name`).

  subscribeOnly @7 () -> (topic :Topic, revoker :Common.Revoker);
  # A capability to the same topic that can only subscribe (and call `name`).
}
