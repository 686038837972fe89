// Typed clients for schemas/net.capnp's Dialer and Conn: outbound connections, to the
// destinations the Dialer names only. Ids, ordinals and layouts come from the generated
// constants in @ww/schema/assembly/net.
//
// Every method returns at once; a Conn from `dial` can be written to before the dial's
// answer arrives (the write is pipelined and fails with the dial's error if it failed).

import {
  Dialer, Dialer_dial$Params, Dialer_dial$Results, Dialer_allowed$Params, Dialer_allowed$Results,
  Dialer_restrict$Params, Dialer_restrict$Results, Conn, Conn_read$Params, Conn_read$Results,
  Conn_write$Params, Conn_shutdown$Params, Conn_close$Params, Conn_addrs$Params, Conn_addrs$Results,
  ShutdownHow,
} from "@ww/schema/assembly/net";
import { StructBuilder } from "../capnp/builder";
import { ElementSize } from "../capnp/pointer";
import { Answer } from "../rpc/types";
import { RevokerClient } from "./common";
import { Obtained } from "./obtained";

export { ShutdownHow };

export class DialerClient extends Obtained {
  /** Connects to `addr` ("host:port", one of `allowed()`); `timeoutMs` 0: the host's default. */
  dial(addr: string, timeoutMs: u32 = 0): ConnClient {
    const c = this.cap.session.call(this.cap, Dialer.ID, Dialer.M_dial, Dialer_dial$Params.DATA_WORDS, Dialer_dial$Params.POINTER_COUNT)
    c.params.setText(Dialer_dial$Params.P_addr, addr)
    c.params.setU32(Dialer_dial$Params.F_timeoutMs, timeoutMs)
    const a = c.send()
    return new ConnClient(a.cap(Dialer_dial$Results.P_conn), a)
  }

  allowed(): Answer {
    return this.cap.session.call(this.cap, Dialer.ID, Dialer.M_allowed, Dialer_allowed$Params.DATA_WORDS, Dialer_allowed$Params.POINTER_COUNT).send()
  }
  /** The destinations of an `allowed` answer. */
  static allowedOf(a: Answer): string[] {
    const list = a.results.list(Dialer_allowed$Results.P_addrs)
    const out = new Array<string>(list.length)
    // A List(Text) reads as structs of one pointer (see capnp/reader.ts readListAt).
    for (let i: u32 = 0; i < list.length; i++) out[i] = list.struct(i).text(0)
    return out
  }

  /** A dialer allowed only `addrs` (each must be allowed here, else ERR_CAP_DENIED). */
  restrict(addrs: string[]): RestrictedDialer {
    const c = this.cap.session.call(this.cap, Dialer.ID, Dialer.M_restrict, Dialer_restrict$Params.DATA_WORDS, Dialer_restrict$Params.POINTER_COUNT)
    const list = c.params.initList(Dialer_restrict$Params.P_addrs, ElementSize.Pointer, <u32>addrs.length)
    // Element i of a pointer list is a one-pointer "struct" with no data at its word.
    for (let i = 0; i < addrs.length; i++) new StructBuilder(list.msg, list.off + (<u32>i << 3), 0, 1).setText(0, addrs[i])
    const a = c.send()
    return new RestrictedDialer(new DialerClient(a.cap(Dialer_restrict$Results.P_dialer), a), new RevokerClient(a.cap(Dialer_restrict$Results.P_revoker), a))
  }
}

/** `restrict`'s results: both share one answer; release the dialer and the revoker. */
export class RestrictedDialer {
  constructor(public dialer: DialerClient, public revoker: RevokerClient) {}
  release(): void {
    this.dialer.cap.release()
    this.revoker.cap.release()
    this.dialer.from.dispose()
  }
}

export class ConnClient extends Obtained {
  /** Up to `max` bytes (0: 64 KiB) once at least one is there, or eof. */
  read(max: u32 = 0): Answer {
    const c = this.cap.session.call(this.cap, Conn.ID, Conn.M_read, Conn_read$Params.DATA_WORDS, Conn_read$Params.POINTER_COUNT)
    c.params.setU32(Conn_read$Params.F_max, max)
    return c.send()
  }
  /** The bytes of a `read` answer (a copy; empty at eof). */
  static dataOf(a: Answer): Uint8Array { return a.results.data(Conn_read$Results.P_data) }
  /** Whether the peer has closed its side: no more data will come. */
  static eofOf(a: Answer): bool { return a.results.bool(Conn_read$Results.B_eof) }

  /** Returns once the connection's send buffer has taken `data`. */
  write(data: Uint8Array): Answer {
    const c = this.cap.session.call(this.cap, Conn.ID, Conn.M_write, Conn_write$Params.DATA_WORDS, Conn_write$Params.POINTER_COUNT)
    c.params.setData(Conn_write$Params.P_data, data)
    return c.send()
  }

  shutdown(how: ShutdownHow): Answer {
    const c = this.cap.session.call(this.cap, Conn.ID, Conn.M_shutdown, Conn_shutdown$Params.DATA_WORDS, Conn_shutdown$Params.POINTER_COUNT)
    c.params.setU16(Conn_shutdown$Params.F_how, <u16>how)
    return c.send()
  }

  /** Flushes, then closes both directions (releasing the last reference closes too). */
  close(): Answer {
    return this.cap.session.call(this.cap, Conn.ID, Conn.M_close, Conn_close$Params.DATA_WORDS, Conn_close$Params.POINTER_COUNT).send()
  }

  addrs(): Answer {
    return this.cap.session.call(this.cap, Conn.ID, Conn.M_addrs, Conn_addrs$Params.DATA_WORDS, Conn_addrs$Params.POINTER_COUNT).send()
  }
  static localOf(a: Answer): string { return a.results.text(Conn_addrs$Results.P_local) }
  static remoteOf(a: Answer): string { return a.results.text(Conn_addrs$Results.P_remote) }
}
