// Typed clients for the Host capability and the capabilities it hands out (schemas/
// host.capnp, cluster.capnp, anchor.capnp, pubsub.capnp; net.capnp's are in net.ts). Ids, ordinals and layouts come
// from the generated constants in @ww/schema/assembly; nothing here is a magic number.
//
// Every method returns its Answer at once: a capability in the results can be used
// before the answer arrives (pipelining); `wait()` suspends until it does.

import {
  Host, Host_info$Params, Host_info$Results, Host_view$Params, Host_view$Results,
  Host_root$Params, Host_root$Results, Host_pubSub$Params, Host_pubSub$Results,
  Host_dialer$Params, Host_dialer$Results, Host_bootContext$Params, Host_bootContext$Results,
  Host_registry$Params, Host_registry$Results,
} from "@ww/schema/assembly/host";
import {
  HostInfo, View, View_self$Params, View_self$Results, View_list$Params, View_list$Results,
} from "@ww/schema/assembly/cluster";
import {
  Anchor, Value, Anchor_walk$Params, Anchor_walk$Results, Anchor_get$Params, Anchor_get$Results,
  Anchor_set$Params, Anchor_set$Results, Anchor_watch$Params, Anchor_watch$Results,
} from "@ww/schema/assembly/anchor";
import {
  PubSub, PubSub_join$Params, PubSub_join$Results, Topic, Topic_publish$Params,
  Topic_subscribe$Params, Topic_subscribe$Results, SubscribeOptions,
} from "@ww/schema/assembly/pubsub";
import { StructReader } from "../capnp/reader";
import { Answer, Cap } from "../rpc/types";
import { DialerClient } from "./net";
import { Obtained } from "./obtained";
import { BootContextClient } from "./process";
import { RegistryClient } from "./registry";

/** What a guest learns of one host: a copy out of an answer's frame. */
export class HostSummary {
  constructor(public id: string, public version: string, public uptimeMs: u64) {}

  static read(s: StructReader): HostSummary {
    return new HostSummary(s.text(HostInfo.P_id), s.text(HostInfo.P_version), s.u64(HostInfo.F_uptimeMs))
  }
}

export class HostClient {
  constructor(public cap: Cap) {}

  info(): Answer {
    return this.cap.session.call(this.cap, Host.ID, Host.M_info, Host_info$Params.DATA_WORDS, Host_info$Params.POINTER_COUNT).send()
  }
  static infoOf(a: Answer): HostSummary { return HostSummary.read(a.results.struct(Host_info$Results.P_info)) }

  view(): ViewClient {
    const a = this.cap.session.call(this.cap, Host.ID, Host.M_view, Host_view$Params.DATA_WORDS, Host_view$Params.POINTER_COUNT).send()
    return new ViewClient(a.cap(Host_view$Results.P_view), a)
  }

  root(): AnchorClient {
    const a = this.cap.session.call(this.cap, Host.ID, Host.M_root, Host_root$Params.DATA_WORDS, Host_root$Params.POINTER_COUNT).send()
    return new AnchorClient(a.cap(Host_root$Results.P_root), a)
  }

  pubSub(): PubSubClient {
    const a = this.cap.session.call(this.cap, Host.ID, Host.M_pubSub, Host_pubSub$Params.DATA_WORDS, Host_pubSub$Params.POINTER_COUNT).send()
    return new PubSubClient(a.cap(Host_pubSub$Results.P_pubSub), a)
  }

  /**
   * The args blob this process's spawner passed (ExecOptions.args, `ww spawn --args`), read
   * from its BootContext: waits for the answer. Empty when none were given, or when its host
   * was given no BootContext.
   */
  args(): Uint8Array {
    const ctx = this.context()
    const a = ctx.args()
    const out = a.wait() ? BootContextClient.argsOf(a) : new Uint8Array(0)
    a.dispose()
    ctx.release()
    return out
  }

  /** Service discovery: provide and find capabilities by name (needs the registry right). */
  registry(): RegistryClient {
    const a = this.cap.session.call(this.cap, Host.ID, Host.M_registry, Host_registry$Params.DATA_WORDS, Host_registry$Params.POINTER_COUNT).send()
    return new RegistryClient(a.cap(Host_registry$Results.P_registry), a)
  }

  /** Outbound connections to the destinations the spawner named; ERR_CAP_DENIED unless granted. */
  dialer(): DialerClient {
    const a = this.cap.session.call(this.cap, Host.ID, Host.M_dialer, Host_dialer$Params.DATA_WORDS, Host_dialer$Params.POINTER_COUNT).send()
    return new DialerClient(a.cap(Host_dialer$Results.P_dialer), a)
  }

  /** What this process was started with; ERR_NOT_FOUND when its host was given none. */
  context(): BootContextClient {
    const a = this.cap.session.call(this.cap, Host.ID, Host.M_bootContext, Host_bootContext$Params.DATA_WORDS, Host_bootContext$Params.POINTER_COUNT).send()
    return new BootContextClient(a.cap(Host_bootContext$Results.P_context), a)
  }
}

export class ViewClient extends Obtained {
  self(): Answer {
    return this.cap.session.call(this.cap, View.ID, View.M_self, View_self$Params.DATA_WORDS, View_self$Params.POINTER_COUNT).send()
  }
  static selfOf(a: Answer): HostSummary { return HostSummary.read(a.results.struct(View_self$Results.P_host)) }

  /** Hosts of the cluster (a selector of `all`), at most `limit`. */
  list(limit: u32): Answer {
    const c = this.cap.session.call(this.cap, View.ID, View.M_list, View_list$Params.DATA_WORDS, View_list$Params.POINTER_COUNT)
    c.params.setU32(View_list$Params.F_limit, limit)
    return c.send()
  }
  static hostsOf(a: Answer): HostSummary[] {
    const list = a.results.list(View_list$Results.P_hosts)
    const out = new Array<HostSummary>(list.length)
    for (let i: u32 = 0; i < list.length; i++) out[i] = HostSummary.read(list.struct(i))
    return out
  }
}

export class AnchorClient extends Obtained {
  walk(path: string): AnchorClient {
    const c = this.cap.session.call(this.cap, Anchor.ID, Anchor.M_walk, Anchor_walk$Params.DATA_WORDS, Anchor_walk$Params.POINTER_COUNT)
    c.params.setText(Anchor_walk$Params.P_path, path)
    const a = c.send()
    return new AnchorClient(a.cap(Anchor_walk$Results.P_anchor), a)
  }

  /** Sets the node's value to `bytes`; the answer carries the new version. */
  set(bytes: Uint8Array): Answer {
    const c = this.cap.session.call(this.cap, Anchor.ID, Anchor.M_set, Anchor_set$Params.DATA_WORDS, Anchor_set$Params.POINTER_COUNT)
    const v = c.params.initStruct(Anchor_set$Params.P_value, Value.DATA_WORDS, Value.POINTER_COUNT)
    v.setU16(Value.DISCRIMINANT, Value.W_data)
    v.setData(Value.P_data, bytes)
    return c.send()
  }
  static versionOfSet(a: Answer): u64 { return a.results.u64(Anchor_set$Results.F_version) }

  get(): Answer {
    return this.cap.session.call(this.cap, Anchor.ID, Anchor.M_get, Anchor_get$Params.DATA_WORDS, Anchor_get$Params.POINTER_COUNT).send()
  }
  /** The data of a `get` answer, or null when the node holds no data. */
  static dataOf(a: Answer): Uint8Array | null {
    const v = a.results.struct(Anchor_get$Results.P_value)
    return v.u16(Value.DISCRIMINANT) == Value.W_data ? v.data(Value.P_data) : null
  }
  static versionOfGet(a: Answer): u64 { return a.results.u64(Anchor_get$Results.F_version) }

  /**
   * Watch this node (and with `subtree`, every node below it): the host calls `watcher`
   * (a Watcher this guest serves, `Session.local(server)`) with each batch of changes.
   * The answer's handle (results pointer 0) ends the watch when released.
   */
  watch(watcher: Cap, subtree: bool, withValues: bool): Obtained {
    const c = this.cap.session.call(this.cap, Anchor.ID, Anchor.M_watch, Anchor_watch$Params.DATA_WORDS, Anchor_watch$Params.POINTER_COUNT)
    c.setCap(c.params, Anchor_watch$Params.P_watcher, watcher)
    c.params.setBool(Anchor_watch$Params.B_subtree, subtree)
    c.params.setBool(Anchor_watch$Params.B_withValues, withValues)
    const a = c.send()
    return new Obtained(a.cap(Anchor_watch$Results.P_handle), a)
  }
}

export class PubSubClient extends Obtained {
  join(name: string): TopicClient {
    const c = this.cap.session.call(this.cap, PubSub.ID, PubSub.M_join, PubSub_join$Params.DATA_WORDS, PubSub_join$Params.POINTER_COUNT)
    c.params.setText(PubSub_join$Params.P_name, name)
    const a = c.send()
    return new TopicClient(a.cap(PubSub_join$Results.P_topic), a)
  }
}

export class TopicClient extends Obtained {
  publish(msg: Uint8Array): Answer {
    const c = this.cap.session.call(this.cap, Topic.ID, Topic.M_publish, Topic_publish$Params.DATA_WORDS, Topic_publish$Params.POINTER_COUNT)
    c.params.setData(Topic_publish$Params.P_msg, msg)
    return c.send()
  }

  /**
   * Subscribe `handler` (a Subscriber this guest serves, `Session.local(server)`): the host
   * calls its `deliver` with batches of messages, one call outstanding at a time.
   * `bufferSize` 0 is the host's default (32). The answer's Subscription (results pointer
   * 0) unsubscribes when released.
   */
  subscribe(handler: Cap, bufferSize: u32 = 0): Obtained {
    const c = this.cap.session.call(this.cap, Topic.ID, Topic.M_subscribe, Topic_subscribe$Params.DATA_WORDS, Topic_subscribe$Params.POINTER_COUNT)
    c.setCap(c.params, Topic_subscribe$Params.P_handler, handler)
    if (bufferSize > 0) {
      const o = c.params.initStruct(Topic_subscribe$Params.P_options, SubscribeOptions.DATA_WORDS, SubscribeOptions.POINTER_COUNT)
      // UInt32 defaults are stored XOR the default (32).
      o.setU32(SubscribeOptions.F_bufferSize, bufferSize ^ 32)
    }
    const a = c.send()
    return new Obtained(a.cap(Topic_subscribe$Results.P_subscription), a)
  }
}
