// The guest's export table: the servers whose capabilities it has sent to the host, each
// with the number of references the host holds (one per senderHosted descriptor sent,
// returned by Release or by Finish/Return releasing result/param caps). When the count
// reaches zero the entry goes and the server's `released()` runs; its id is reused.

import { Server } from "./server";

/** Exports one guest may have at once: a guest exporting without bound gets ERR_LIMIT. */
export const DEFAULT_MAX_EXPORTS: i32 = 4096;

class ExportEntry {
  refs: u32 = 0;
  constructor(public server: Server) {}
}

export class ExportTable {
  private entries: Array<ExportEntry | null> = new Array<ExportEntry | null>();
  private free: Array<u32> = new Array<u32>();
  /** Export id by server address: one id per server, however often it is sent. */
  private ids: Map<usize, u32> = new Map<usize, u32>();
  max: i32 = DEFAULT_MAX_EXPORTS;

  /** Servers exported now. */
  get size(): i32 { return this.ids.size; }

  /** References the host holds to `server` (0 when it is not exported). */
  refsOf(server: Server): u32 {
    const key = changetype<usize>(server);
    if (!this.ids.has(key)) return 0;
    return changetype<ExportEntry>(this.entries[this.ids.get(key)]).refs;
  }

  isExported(server: Server): bool {
    return this.ids.has(changetype<usize>(server));
  }

  /** Whether `fresh` more servers fit. */
  fits(fresh: i32): bool {
    return this.ids.size + fresh <= this.max;
  }

  /** One more reference to `server`; its export id (allocated on first export). */
  add(server: Server): u32 {
    const key = changetype<usize>(server);
    let id: u32;
    if (this.ids.has(key)) {
      id = this.ids.get(key);
    } else {
      if (this.free.length > 0) id = this.free.pop();
      else { id = <u32>this.entries.length; this.entries.push(null); }
      this.entries[id] = new ExportEntry(server);
      this.ids.set(key, id);
    }
    changetype<ExportEntry>(this.entries[id]).refs++;
    return id;
  }

  /** The server exported as `id`, or null. */
  get(id: u32): Server | null {
    if (id >= <u32>this.entries.length) return null;
    const e = this.entries[id];
    return e == null ? null : e.server;
  }

  /**
   * Drop `count` references to export `id`. False (nothing changed) when there is no such
   * export or it holds fewer references: a protocol violation the caller reports.
   */
  release(id: u32, count: u32): bool {
    if (id >= <u32>this.entries.length) return false;
    const e = this.entries[id];
    if (e == null || count > e.refs) return false;
    e.refs -= count;
    if (e.refs == 0) {
      this.entries[id] = null;
      this.ids.delete(changetype<usize>(e.server));
      this.free.push(id);
      e.server.released();
    }
    return true;
  }
}
