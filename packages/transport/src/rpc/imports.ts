// Imports: capabilities the peer exports to us, counted the way rpc.capnp counts them.
//
// Remote count: every CapDescriptor naming export `id` (senderHosted, senderPromise) that we
// receive is one more reference the peer keeps for us; one Release returns them all.
// Local count: each receipt gets its own handle (an ImportClient) and retainClient makes
// more; disposing a handle drops one local reference and only the last one sends that
// Release. So a holder that disposes its copy never breaks another holder's, however the
// copies came in (one message or several, one handle shared through retainClient).

import { Client, RemotePromise } from 'capnp-ts'
import type { Method, ParamsInit, Struct } from 'capnp-ts'
import type { RemotePromiseCtor, Target } from 'capnp-ts/src/rpc/client.js'
import { CapabilityReleasedError } from '../errors.js'
import { failedPromise } from './caps.js'
import type { RpcConnection } from './connection.js'

/** One row of a connection's import table. */
export interface ImportEntry {
  /** References the peer gave us: the referenceCount of the Release we owe it. */
  remote: number
  /** Handles not yet disposed. */
  local: number
}

/** capnp-ts's import target, plus `importedCap` so it is its own CallTarget (no object per call). */
interface ImportTarget { tag: 'import'; conn: RpcConnection; id: number; importedCap: number }

const RELEASED: Target = { tag: 'broken', reason: 'ERR_RELEASED: this capability handle was disposed' }

/** One local reference to an import. Made by the connection only. */
export class ImportClient extends Client {
  readonly #import: ImportTarget
  #released = false

  constructor(conn: RpcConnection, id: number) {
    const t: ImportTarget = { tag: 'import', conn, id, importedCap: id }
    super(t as unknown as Target)
    this.#import = t
  }

  get released(): boolean { return this.#released }

  override call<P extends Struct, R extends Struct, A extends RemotePromise<R> = RemotePromise<R>>(
    method: Method<P, R>, paramsFunc?: ParamsInit<P>, PromiseClass?: RemotePromiseCtor<R, A>,
  ): A {
    const Promised = (PromiseClass ?? RemotePromise) as RemotePromiseCtor<R, A>
    const t = this.#import
    // Straight to the connection: the hot path of every call on a remote capability.
    if ((this._target as unknown) === t) return t.conn.sendCall(t, method, paramsFunc, Promised)
    if (this.#released) return failedPromise(Promised, new CapabilityReleasedError())
    return super.call(method, paramsFunc, PromiseClass)
  }

  /** Drops this handle's reference (idempotent); the import's last one sends the Release. */
  override dispose(): void {
    if (this.#released) return
    this.#released = true
    this._target = RELEASED
    this.#import.conn.releaseImport(this.#import.id)
  }

  /** Another handle on the same import, counted: either may be disposed first. */
  retain(): Client {
    if (this.#released) throw new CapabilityReleasedError('retain on a disposed capability handle')
    return this.#import.conn.retainImport(this.#import.id)
  }
}

/** A generated typed client (`Foo$Client`): a Client in `client`, rebuilt from one. */
export type TypedClient = { client: Client }

/**
 * A new handle on the capability `client` refers to, for a second holder that will dispose
 * its own copy: an import gets one more local reference (the Release waits for both);
 * anything else (local, promised, broken), whose dispose releases nothing, a new Client on
 * the same target. A typed client (`p.getHandler()`) gives a typed client of the same class.
 * This is how a server keeps a capability from a call's params past the call: the call's
 * own handles are disposed when its method settles (README, "params capabilities").
 * Throws CapabilityReleasedError for a handle already disposed.
 */
export function retainClient<C extends Client | TypedClient>(client: C): C {
  if (client instanceof Client) return retainBare(client) as C
  const Typed = client.constructor as new (c: Client) => C
  return new Typed(retainBare(client.client))
}

function retainBare(client: Client): Client {
  if (client instanceof ImportClient) return client.retain()
  const t = client._target
  if (t.tag === 'import') return (t.conn as unknown as RpcConnection).retainImport(t.id)
  return new Client(t)
}
