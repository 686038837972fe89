// The runtime contract and the exit status live in @ww/interface (one copy for every
// package); here they are re-exported, and capabilities get their capnp-ts types.

import type { Client, ClientLike } from 'capnp-ts'

export type {
  Pid, KillReason, ExitStatus, NamedCap, HostOverrideCaps, PreopenCap, ChildOptions, SpawnRequest, ProcessHandle, Executor,
  ProcessSnapshot, StartSpec, RunningProcess, Runtime, RemoteProcess, RemoteSpawner,
} from '@ww/interface'

declare module '@ww/interface' {
  /** In a program with @ww/host, a capability is a capnp-ts client: handed in as any ClientLike, handed out as a Client to dispose. */
  interface CapabilityTypes {
    readonly in: ClientLike
    readonly out: Client
  }
}
