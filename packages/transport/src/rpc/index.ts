export { RpcConnection, type MessageSink, type RpcConnectionOptions, type CallTarget } from './connection.js'
export { RpcStats } from './stats.js'
export { keep, keepStruct, KeptBytes } from './keep.js'
export { onReleased, retainServer } from './release.js'
