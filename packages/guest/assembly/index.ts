// @ww/guest SDK for AssemblyScript guests. See ../README.md.
//
// The runtime, then the clients and server bases of the ww schemas (schemas/*.capnp),
// generated into gen/ by `ww-capnpc --as-rpc` (scripts/gen.mjs). Their layout constants,
// request and answer classes, and struct readers and builders are in gen/<schema>.ts:
// `import { Anchor_set$Answer, Value } from "@ww/guest/assembly/gen/anchor"`.
export * from "./runtime";
export { HostClient, BootContextClient } from "./interfaces/host";
export { HostServer } from "./gen/host";
export { EchoClient, EchoServer, CounterClient, CounterServer } from "./gen/testing";
export {
  ViewClient, ViewServer, HostHandlerClient, HostHandlerServer, MembershipHandlerClient, MembershipHandlerServer,
  LeaveReason,
} from "./gen/cluster";
export { AnchorClient, AnchorServer, WatcherClient, WatcherServer, ChangeKind } from "./gen/anchor";
export {
  PubSubClient, PubSubServer, TopicClient, TopicServer, SubscriberClient, SubscriberServer,
  SubscriptionClient, SubscriptionServer, Overflow,
} from "./gen/pubsub";
export {
  RegistryClient, RegistryServer, ProvisionClient, ProvisionServer, ProviderHandlerClient, ProviderHandlerServer,
} from "./gen/registry";
export {
  DialerClient, DialerServer, ConnClient, ConnServer, ListenerClient, ListenerServer, BinderClient, BinderServer,
  ShutdownHow,
} from "./gen/net";
export {
  BootContextServer, ExecutorClient, ExecutorServer, ProcessClient, ProcessServer, ExitHandlerClient, ExitHandlerServer,
  BytecodeCacheClient, BytecodeCacheServer, TrapKind, KillReason, Limit, ProcessState,
} from "./gen/process";
export {
  RevokerClient, RevokerServer, HandleClient, HandleServer, ByteSinkClient, ByteSinkServer, ByteSourceClient,
  ByteSourceServer,
} from "./gen/common";
export { DebugClient, DebugServer } from "./gen/debug";
export { PeerClient, PeerServer } from "./gen/peer";
