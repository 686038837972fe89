// WASI guest: an HTTP/1.1 GET through the Dialer its Host hands out, and nothing else: the
// guest has no socket of its own (WASI preview1 has no connect), so the only way out is
// `host.dialer().dial(addr)`, which reaches only the destinations the spawner named.
//
// Target: the BootContext's args, as text "host:port[/path]", when its spawner gave it a
// context (an Executor's ExecRequest.args); otherwise the first address the dialer allows
// (`ww run` gives a guest no args: what it may reach is all it is told), path "/".
// The response body goes to stdout; the status line, when not 2xx, to stderr.
//
// Exit: 0 on a 2xx response; 1 when the dialer or the dial failed (its reason, e.g.
// "ERR_CAP_DENIED: …", on stderr); 2 a bad target; 3 a malformed or too large response;
// 4 a response that is not 2xx; 5 stdout refused the body.
export * from "../assembly/exports";
import { Session, HostClient, RpcException } from "../assembly/index";

const MAX_RESPONSE: i32 = 16 << 20;

@external("wasi_snapshot_preview1", "fd_write")
declare function fd_write(fd: u32, iovs: usize, iovsLen: u32, nOut: usize): u16;

/** All of `bytes` to fd 1: fd_write may take only part (the shim's write does not loop). */
function writeAll(bytes: Uint8Array): bool {
  const io = memory.data(12); // iovec {buf, len}, then the count written
  let off = 0;
  while (off < bytes.length) {
    store<u32>(io, <u32>(bytes.dataStart + <usize>off));
    store<u32>(io, <u32>(bytes.length - off), 4);
    if (fd_write(1, io, 1, io + 8) != 0) return false;
    const n = load<u32>(io, 8);
    if (n == 0) return false;
    off += <i32>n;
  }
  return true;
}

// Not console.error: the shim's goes to stdout, prefixed "Error: ".
function eprint(line: string): void {
  process.stderr.write(line + "\n");
}

function reasonOf(error: RpcException | null): string {
  return error != null ? error.reason : "no answer";
}

/** Bytes received so far, in one growable buffer. */
class Received {
  buf: Uint8Array = new Uint8Array(4096);
  len: i32 = 0;
  add(d: Uint8Array): bool {
    if (this.len + d.length > MAX_RESPONSE) return false;
    if (this.len + d.length > this.buf.length) {
      const next = new Uint8Array(max(this.buf.length * 2, this.len + d.length));
      memory.copy(next.dataStart, this.buf.dataStart, this.len);
      this.buf = next;
    }
    memory.copy(this.buf.dataStart + <usize>this.len, d.dataStart, d.length);
    this.len += d.length;
    return true;
  }
}

function lower(c: u8): u8 { return c >= 65 && c <= 90 ? c + 32 : c; }

/** Index of "\r\n" at or after `from` in b[0, end), or -1. */
function crlf(b: Uint8Array, from: i32, end: i32): i32 {
  for (let i = from; i + 1 < end; i++) if (b[i] == 13 && b[i + 1] == 10) return i;
  return -1;
}

/** The header line [from, to) names `name` (lowercase, with ':'): the value's start, or -1. */
function header(b: Uint8Array, from: i32, to: i32, name: string): i32 {
  if (to - from < name.length) return -1;
  for (let i = 0; i < name.length; i++) if (lower(b[from + i]) != <u8>name.charCodeAt(i)) return -1;
  let v = from + name.length;
  while (v < to && b[v] == 32) v++;
  return v;
}

/** Decodes a chunked body in b[from, end) into `out`; false if malformed or cut short. */
function unchunk(b: Uint8Array, from: i32, end: i32, out: Received): bool {
  let p = from;
  for (;;) {
    const eol = crlf(b, p, end);
    if (eol < 0) return false;
    let size: i32 = 0, digits = 0;
    for (let i = p; i < eol; i++) {
      const c = lower(b[i]);
      const d: i32 = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
      if (d < 0) break; // chunk extensions (";…") end the size
      if (size > (MAX_RESPONSE >> 4)) return false;
      size = size * 16 + d;
      digits++;
    }
    if (digits == 0) return false;
    p = eol + 2;
    if (size == 0) return true; // trailers, if any, are not needed
    if (p + size + 2 > end) return false;
    if (!out.add(b.subarray(p, p + size))) return false;
    p += size + 2;
  }
  return false; // unreachable: AssemblyScript wants a return after an endless loop
}

export function ww_main(): i32 {
  const rpc = new Session();
  const host = new HostClient(rpc.bootstrap());
  const granted = host.dialer();
  const dialer = granted.dialer();

  // "host:port[/path]" from the BootContext's args ("" when there is no context).
  let target = String.UTF8.decode(host.args().buffer);
  if (target.length == 0) {
    const allowed = dialer.allowed();
    if (!allowed.wait()) { eprint("dialer: " + reasonOf(allowed.error)); return 1; }
    const addrs = allowed.results().getAddrs().toArray();
    allowed.dispose();
    if (addrs.length == 0) { eprint("dialer: it allows no destination"); return 2; }
    target = addrs[0];
  }
  // "host:port/path": the address ends at the first '/' after the port's ':' (IPv6
  // literals are bracketed, so their ':'s come before the ']').
  const colon = target.lastIndexOf(":", target.indexOf("/") < 0 ? target.length : target.indexOf("/"));
  const slash = colon < 0 ? -1 : target.indexOf("/", colon);
  const addr = slash < 0 ? target : target.substring(0, slash);
  const path = slash < 0 ? "/" : target.substring(slash);
  if (colon < 0 || addr.length == 0) { eprint("bad target '" + target + "': expected host:port[/path]"); return 2; }

  const dialed = dialer.dial(addr, 0);
  const conn = dialed.conn();
  // Pipelined on the dial: sent before its answer, failed with its reason if it failed.
  const sent = conn.write(Uint8Array.wrap(String.UTF8.encode(
    "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nConnection: close\r\nUser-Agent: ww-guest\r\n\r\n")));
  if (!conn.ready()) { eprint("dial " + addr + " failed: " + reasonOf(conn.error)); return 1; }
  if (!sent.wait()) { eprint("write to " + addr + " failed: " + reasonOf(sent.error)); return 1; }
  sent.dispose();

  // Connection: close — the server ends the response by closing: read to eof.
  const got = new Received();
  for (;;) {
    const r = conn.read(0); // 0: up to 64 KiB
    if (!r.wait()) { eprint("read from " + addr + " failed: " + reasonOf(r.error)); return 1; }
    const eof = r.results().getEof();
    const ok = got.add(r.results().getData());
    r.dispose();
    if (!ok) { eprint("response larger than " + MAX_RESPONSE.toString() + " bytes"); return 3; }
    if (eof) break;
  }
  conn.close().dispose();
  conn.release();
  dialed.dispose();
  dialer.release();
  granted.dispose();

  const b = got.buf, n = got.len;
  const statusEnd = crlf(b, 0, n);
  // "HTTP/1.1 200 OK": the status code is the three digits after the first space.
  if (statusEnd < 12 || b[8] != 32) { eprint("malformed response from " + addr); return 3; }
  const statusLine = String.UTF8.decodeUnsafe(b.dataStart, statusEnd);
  const status = I32.parseInt(statusLine.substring(9, 12));
  let chunked = false, length: i32 = -1;
  let line = statusEnd + 2;
  for (;;) {
    const eol = crlf(b, line, n);
    if (eol < 0) { eprint("malformed response from " + addr + ": headers never end"); return 3; }
    if (eol == line) { line += 2; break; }
    let v = header(b, line, eol, "transfer-encoding:");
    if (v >= 0 && header(b, v, eol, "chunked") >= 0) chunked = true;
    v = header(b, line, eol, "content-length:");
    if (v >= 0) length = I32.parseInt(String.UTF8.decodeUnsafe(b.dataStart + <usize>v, eol - v));
    line = eol + 2;
  }
  let body = b.subarray(line, n);
  if (chunked) {
    const out = new Received();
    if (!unchunk(b, line, n, out)) { eprint("malformed chunked body from " + addr); return 3; }
    body = out.buf.subarray(0, out.len);
  } else if (length >= 0) {
    if (length > n - line) { eprint("response from " + addr + " cut short"); return 3; }
    body = b.subarray(line, line + length);
  }
  if (!writeAll(body)) return 5;
  if (status < 200 || status > 299) { eprint(statusLine); return 4; }
  return 0;
}
