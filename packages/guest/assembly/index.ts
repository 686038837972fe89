// @ww/guest SDK for AssemblyScript guests. See ../README.md.
export * from "./capnp/index";
export { Session, SessionStats } from "./rpc/session";
export { CallBuilder } from "./rpc/call";
export { Answer, AnswerCaps, Cap, CapState, RpcException } from "./rpc/types";
export { Server, IncomingCall } from "./rpc/server";
export { CapContext } from "./rpc/context";
export { ExportTable, DEFAULT_MAX_EXPORTS } from "./rpc/exports";
export { ASYNCIFY_DATA_SIZE } from "./abi";
export { EchoClient, CounterClient } from "./interfaces/testing";
export { HostClient, HostSummary, ViewClient, AnchorClient, PubSubClient, TopicClient } from "./interfaces/host";
export { Obtained } from "./interfaces/obtained";
export { DialerClient, RestrictedDialer, ConnClient, ShutdownHow } from "./interfaces/net";
export { BootContextClient, BootSummary, ProcessId } from "./interfaces/process";
export { RevokerClient } from "./interfaces/common";
export { RegistryClient } from "./interfaces/registry";
export * from "./rpc/stubs";
