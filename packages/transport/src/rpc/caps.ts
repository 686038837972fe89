// Capability helpers shared by the connection, questions and answers.

import type { Client, RemotePromise, Struct } from 'capnp-ts'
import type { RemotePromiseCtor } from 'capnp-ts/src/rpc/client.js'
import { initRemotePromise } from 'capnp-ts/src/rpc/remote-promise.js'
import { brokenClient, resolveCapability } from 'capnp-ts/src/rpc/capability.js'
import type { Payload, PromisedAnswer } from 'capnp-ts/src/std/rpc.capnp.js'
import { PromisedAnswer_Op_Which } from 'capnp-ts/src/std/rpc.capnp.js'
import { reasonOf } from '../errors.js'

/** The capability at `transform` in `payload`; a broken client if there is none (never throws). */
export function capabilityAt(payload: Payload, transform: number[]): Client {
  try {
    return resolveCapability(payload, transform)
  } catch (e) {
    return brokenClient(`no capability at [${transform.join(',')}]: ${reasonOf(e)}`)
  }
}

const NO_OPS: number[] = []

/** A PromisedAnswer's transform as pointer indices (noops dropped). */
export function readTransform(pa: PromisedAnswer): number[] {
  if (!pa.hasTransform()) return NO_OPS
  const ops = pa.getTransform()
  const n = ops.getLength()
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const op = ops.get(i)
    if (op.which() === PromisedAnswer_Op_Which.GET_POINTER_FIELD) out.push(op.getGetPointerField())
  }
  return out
}

/** Write `transform` into a PromisedAnswer. */
export function writeTransform(pa: PromisedAnswer, transform: number[]): void {
  if (transform.length === 0) return
  const ops = pa.initTransform(transform.length)
  for (let i = 0; i < transform.length; i++) ops.get(i).setGetPointerField(transform[i]!)
}

/** A call that failed before it was sent: its promise rejects with `err` (typed). */
export function failedPromise<R extends Struct, A extends RemotePromise<R>>(PromiseClass: RemotePromiseCtor<R, A>, err: Error): A {
  const promise = Promise.reject(err)
  promise.catch(() => undefined)
  return initRemotePromise<R, A>(PromiseClass, { pipeline: () => brokenClient(reasonOf(err)), promise })
}
