// Typed client for schemas/registry.capnp's Registry: offer a capability under a name, and
// find the capabilities others offer, anywhere in the cluster. What is offered can be of any
// interface (a user's own schema): finders get a capability the host forwards to it.

import {
  Registry, Registry_provide$Params, Registry_provide$Results, Registry_find$Params, Registry_find$Results,
  Provider, ProvideOptions,
} from "@ww/schema/assembly/registry";
import { ProcessRef } from "@ww/schema/assembly/common";
import { Answer, Cap } from "../rpc/types";
import { Obtained } from "./obtained";
import { ProcessId } from "./process";

export class RegistryClient extends Obtained {
  /**
   * Offer `service` (a capability this guest serves, `Session.local(server)`, or any it
   * holds) under `name` for a lease of `ttlMs` (0: the host's default, 10 s; at most 1 h).
   * The lease lapses unless renewed with the Provision's `refresh` (results pointer 0); a
   * guest that only serves (parked in `serve()`) cannot renew, so it asks for a long lease.
   * Releasing the Provision withdraws it at once.
   */
  provide(name: string, service: Cap, ttlMs: u32 = 0): Obtained {
    const c = this.cap.session.call(this.cap, Registry.ID, Registry.M_provide, Registry_provide$Params.DATA_WORDS, Registry_provide$Params.POINTER_COUNT)
    c.params.setText(Registry_provide$Params.P_name, name)
    c.setCap(c.params, Registry_provide$Params.P_service, service)
    if (ttlMs > 0) {
      const o = c.params.initStruct(Registry_provide$Params.P_options, ProvideOptions.DATA_WORDS, ProvideOptions.POINTER_COUNT)
      o.setU32(ProvideOptions.F_ttlMs, ttlMs ^ 10000) // stored XOR its default
    }
    const a = c.send()
    return new Obtained(a.cap(Registry_provide$Results.P_provision), a)
  }

  /** Providers of `name`, at most `limit`, waiting up to `waitMs` for the first one to appear. */
  find(name: string, limit: u32 = 1, waitMs: u32 = 0): Answer {
    const c = this.cap.session.call(this.cap, Registry.ID, Registry.M_find, Registry_find$Params.DATA_WORDS, Registry_find$Params.POINTER_COUNT)
    c.params.setText(Registry_find$Params.P_name, name)
    c.params.setU32(Registry_find$Params.F_limit, limit)
    c.params.setU32(Registry_find$Params.F_waitMs, waitMs)
    return c.send()
  }

  /** How many providers a done `find` answer lists. */
  static countOf(a: Answer): u32 { return a.results.list(Registry_find$Results.P_providers).length }

  /** Provider `i`'s service: a new handle, yours to release (the answer must be done). */
  static serviceOf(a: Answer, i: u32): Cap {
    return a.caps.capAt(a.results.list(Registry_find$Results.P_providers).struct(i), Provider.P_service)
  }

  /** Which process offers provider `i`. */
  static providerOf(a: Answer, i: u32): ProcessId {
    return ProcessId.read(a.results.list(Registry_find$Results.P_providers).struct(i).struct(Provider.P_provider))
  }
}
