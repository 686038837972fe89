// The SDK's runtime: Cap'n Proto messages, the RPC session, servers and what generated
// stubs build on. Generated code (assembly/gen/, and a user's own `ww-capnpc --as-rpc`
// output through index.ts) imports this; it imports no generated module, so the two
// never import each other in a cycle.
export * from "./capnp/index";
export { Session, SessionStats } from "./rpc/session";
export { CallBuilder } from "./rpc/call";
export { Answer, AnswerCaps, Cap, CapState, RpcException } from "./rpc/types";
export { Server, IncomingCall } from "./rpc/server";
export { CapContext } from "./rpc/context";
export { ExportTable, DEFAULT_MAX_EXPORTS } from "./rpc/exports";
export { ASYNCIFY_DATA_SIZE } from "./abi";
export * from "./rpc/stubs";
