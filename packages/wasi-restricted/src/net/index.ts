// Real sockets for the restricted WASI: listeners the spawner binds (listenTcp), outbound
// dialers attenuated to a host:port list (dialerFor), connections over node:net, and
// the same described as data (SocketGrant) for a guest on another thread to open there.
export { listenTcp, TcpListener, type ListenerStats } from './listener.js'
export { dialerFor, type Dialer, type DialOptions } from './dialer.js'
export { checkSocketGrants, openSocketGrants, type SocketGrant, type OpenedSockets } from './grants.js'
export { TcpConn, type ConnStats } from './conn.js'
export { DEFAULT_NET_LIMITS, netLimits, type NetLimits } from './limits.js'
export { parseAddr, formatAddr, type HostPort } from './addr.js'
export { NetError, CapDenied, BadAddress, AddressUnreachable, NetTimeout, CapInUse, BindFailed } from './errors.js'
