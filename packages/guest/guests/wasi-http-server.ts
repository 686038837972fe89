// WASI guest: an HTTP/1.1 keep-alive server on the listening socket its spawner granted
// (the first fd from 3 up that is a socket with the sock_accept right, as wasmtime
// --tcplisten hands them out). One loop, non-blocking sockets, one poll_oneoff over the
// listener and every connection: a guest with nothing to do suspends in poll_oneoff, a
// slow client never stalls the others. Every request gets a small text body echoing its
// path. No allocation in the loop: buffers are laid out once at start; per-slot state is
// read with unchecked() (slot numbers come from our own bookkeeping, never from the
// network) and the poll set is built over the slots in use, not all MAX_CONNS.
// Run with @ww/wasi-restricted's sockets grant (listenTcp); ww_main returns 0 when the
// listener is closed, 2 when no listener was granted.
export * from "../assembly/exports";

@external("wasi_snapshot_preview1", "sock_accept")
declare function sock_accept(fd: u32, flags: u32, fdOut: usize): u32;
@external("wasi_snapshot_preview1", "sock_recv")
declare function sock_recv(fd: u32, iovs: usize, iovsLen: u32, riFlags: u32, nOut: usize, roFlagsOut: usize): u32;
@external("wasi_snapshot_preview1", "sock_send")
declare function sock_send(fd: u32, iovs: usize, iovsLen: u32, siFlags: u32, nOut: usize): u32;
@external("wasi_snapshot_preview1", "poll_oneoff")
declare function poll_oneoff(subs: usize, events: usize, nsubs: u32, neventsOut: usize): u32;
@external("wasi_snapshot_preview1", "fd_close")
declare function fd_close(fd: u32): u32;
@external("wasi_snapshot_preview1", "fd_fdstat_get")
declare function fd_fdstat_get(fd: u32, out: usize): u32;
@external("wasi_snapshot_preview1", "fd_fdstat_set_flags")
declare function fd_fdstat_set_flags(fd: u32, flags: u32): u32;

const EAGAIN: u32 = 6;
const EMFILE: u32 = 33; // this process's fd limit (the policy's maxFds)
const ENFILE: u32 = 41;
const FDFLAGS_NONBLOCK: u32 = 4;
const FILETYPE_SOCKET_STREAM: u8 = 6;
const RIGHT_SOCK_ACCEPT: u64 = 1 << 29;
const EVENTTYPE_FD_READ: u8 = 1;
const EVENTTYPE_FD_WRITE: u8 = 2;
const SUB_SIZE = 48;
const EVENT_SIZE = 32;

const MAX_CONNS = 512;
const IN_CAP = 4096;
const OUT_CAP = 4096;

// Per connection (slot i): fd (-1 free), bytes in its input buffer, pending output.
const fds = new StaticArray<i32>(MAX_CONNS);
const inLen = new StaticArray<i32>(MAX_CONNS);
const outLen = new StaticArray<i32>(MAX_CONNS);
const outOff = new StaticArray<i32>(MAX_CONNS);
const closeAfter = new StaticArray<bool>(MAX_CONNS);
const inBufs = new StaticArray<u8>(MAX_CONNS * IN_CAP);
const outBufs = new StaticArray<u8>(MAX_CONNS * OUT_CAP);
const subs = new StaticArray<u8>((MAX_CONNS + 1) * SUB_SIZE);
const events = new StaticArray<u8>((MAX_CONNS + 1) * EVENT_SIZE);
const scratch = new StaticArray<u8>(64); // iovec, out-params

function addr<T>(a: T): usize { return changetype<usize>(a); }

function ascii(s: string): StaticArray<u8> {
  const b = String.UTF8.encode(s);
  const out = new StaticArray<u8>(b.byteLength);
  memory.copy(addr(out), changetype<usize>(b), b.byteLength);
  return out;
}
const HEAD = ascii("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ");
const CLOSE = ascii("\r\nConnection: close");
const END_HEAD = ascii("\r\n\r\n");
const BODY = ascii("hello from a ww guest\npath=");

function put(dst: usize, src: StaticArray<u8>): usize {
  memory.copy(dst, addr(src), src.length);
  return dst + src.length;
}

function putDecimal(dst: usize, v: i32): usize {
  let digits = 1;
  for (let t = v; t >= 10; t /= 10) digits++;
  for (let i = digits - 1; i >= 0; i--) { store<u8>(dst + i, 48 + v % 10); v /= 10; }
  return dst + digits;
}

function lower(c: u8): u8 { return c >= 65 && c <= 90 ? c + 32 : c; }

/** True when [p, end) starts with `name` (lowercase) case-insensitively. */
function startsWith(p: usize, end: usize, name: string): bool {
  const n = name.length;
  if (<isize>(end - p) < n) return false;
  for (let i = 0; i < n; i++) if (lower(load<u8>(p + i)) != <u8>name.charCodeAt(i)) return false;
  return true;
}

function skipSpaces(p: usize, end: usize): usize { while (p < end && load<u8>(p) == 32) p++; return p; }

function findHeadEnd(p: usize, n: i32): i32 {
  for (let i = 3; i < n; i++) {
    if (load<u8>(p + i) == 10 && load<u8>(p + i - 1) == 13 && load<u8>(p + i - 2) == 10 && load<u8>(p + i - 3) == 13) return i + 1;
  }
  return -1;
}

/** One past the highest slot in use: the poll loop's bound. */
let slotsEnd = 0;

function closeSlot(i: i32): void {
  fd_close(<u32>unchecked(fds[i]));
  unchecked(fds[i] = -1);
  while (slotsEnd > 0 && unchecked(fds[slotsEnd - 1]) < 0) slotsEnd--;
}

/** Answers every complete request buffered on slot i. False: malformed, drop the connection. */
function serve(i: i32): bool {
  const base = addr(inBufs) + <usize>(i * IN_CAP);
  for (;;) {
    const n = unchecked(inLen[i]);
    const head = findHeadEnd(base, n);
    if (head < 0) return n < IN_CAP;
    // Room for one more response (at most ~1.2 KiB); else wait until the output drains.
    if (OUT_CAP - unchecked(outLen[i]) < 1400 || unchecked(closeAfter[i])) return true;
    const end = base + <usize>head;
    // Request line: METHOD SP target SP version CRLF
    let p = base;
    while (p < end && load<u8>(p) != 32) p++;
    const target = p + 1;
    let q = target;
    while (q < end && load<u8>(q) != 32 && load<u8>(q) != 13) q++;
    if (q >= end || load<u8>(q) != 32) return false;
    let close = startsWith(q + 1, end, "http/1.0");
    let body = 0;
    // Headers, one per line.
    let line = q;
    while (line < end && load<u8>(line) != 10) line++;
    line++;
    while (line < end - 2) {
      let eol = line;
      while (eol < end && load<u8>(eol) != 13) eol++;
      if (startsWith(line, eol, "connection:")) {
        const v = skipSpaces(line + 11, eol);
        if (startsWith(v, eol, "close")) close = true;
        else if (startsWith(v, eol, "keep-alive")) close = false;
      } else if (startsWith(line, eol, "content-length:")) {
        let v = skipSpaces(line + 15, eol);
        body = 0;
        while (v < eol && load<u8>(v) >= 48 && load<u8>(v) <= 57 && body < IN_CAP) { body = body * 10 + (load<u8>(v) - 48); v++; }
      }
      line = eol + 2;
    }
    const used = head + body;
    if (used > IN_CAP) return false;
    if (used > n) return true; // the body is still coming
    let pathLen = <i32>(q - target);
    if (pathLen > 1024) pathLen = 1024;
    const bodyLen = BODY.length + pathLen + 1;
    let o = addr(outBufs) + <usize>(i * OUT_CAP + unchecked(outLen[i]));
    const start = o;
    o = put(o, HEAD);
    o = putDecimal(o, bodyLen);
    if (close) o = put(o, CLOSE);
    o = put(o, END_HEAD);
    o = put(o, BODY);
    memory.copy(o, target, pathLen);
    o += pathLen;
    store<u8>(o, 10); o++;
    unchecked(outLen[i] += <i32>(o - start));
    memory.copy(base, base + used, n - used);
    unchecked(inLen[i] = n - used);
    if (close) { unchecked(closeAfter[i] = true); unchecked(inLen[i] = 0); return true; }
  }
  return true; // unreachable: AssemblyScript wants a return after an endless loop
}

/** Sends pending output. False: the connection is gone. */
function flush(i: i32): bool {
  const io = addr(scratch);
  while (unchecked(outOff[i]) < unchecked(outLen[i])) {
    store<u32>(io, <u32>(addr(outBufs) + <usize>(i * OUT_CAP + unchecked(outOff[i]))));
    store<u32>(io + 4, <u32>(unchecked(outLen[i]) - unchecked(outOff[i])));
    const r = sock_send(<u32>unchecked(fds[i]), io, 1, 0, io + 8);
    if (r == EAGAIN) return true;
    if (r != 0) return false;
    unchecked(outOff[i] += load<u32>(io + 8));
  }
  unchecked(outOff[i] = 0); unchecked(outLen[i] = 0);
  return true;
}

function readable(i: i32): bool {
  const io = addr(scratch);
  const n = unchecked(inLen[i]);
  if (n == IN_CAP || unchecked(closeAfter[i])) return true;
  store<u32>(io, <u32>(addr(inBufs) + <usize>(i * IN_CAP + n)));
  store<u32>(io + 4, <u32>(IN_CAP - n));
  const r = sock_recv(<u32>unchecked(fds[i]), io, 1, 0, io + 8, io + 12);
  if (r == EAGAIN) return true;
  if (r != 0) return false;
  const got = load<u32>(io + 8);
  if (got == 0) return false; // the client closed
  unchecked(inLen[i] = n + <i32>got);
  return serve(i);
}

function findListener(): i32 {
  const st = addr(scratch);
  for (let fd = 3; fd < 64; fd++) {
    if (fd_fdstat_get(<u32>fd, st) != 0) continue;
    if (load<u8>(st) == FILETYPE_SOCKET_STREAM && (load<u64>(st + 8) & RIGHT_SOCK_ACCEPT) != 0) return fd;
  }
  return -1;
}

export function ww_main(): i32 {
  const listener = findListener();
  if (listener < 0) { console.log("no listener granted"); return 2; }
  if (fd_fdstat_set_flags(<u32>listener, FDFLAGS_NONBLOCK) != 0) return 3;
  for (let i = 0; i < MAX_CONNS; i++) unchecked(fds[i] = -1);
  console.log("listening on fd " + listener.toString());
  let open = 0;
  // At the fd limit, accepting waits (clients queue on the listener) until a connection closes.
  let acceptPaused = false;
  const s = addr(subs), ev = addr(events), nOut = addr(scratch) + 32;
  for (;;) {
    let n = 0;
    if (open < MAX_CONNS && !acceptPaused) {
      const p = s;
      store<u64>(p, 0); store<u8>(p + 8, EVENTTYPE_FD_READ); store<u32>(p + 16, <u32>listener);
      n = 1;
    }
    for (let i = 0; i < slotsEnd; i++) {
      if (unchecked(fds[i]) < 0) continue;
      const p = s + <usize>(n * SUB_SIZE);
      store<u64>(p, <u64>(i + 1));
      store<u8>(p + 8, unchecked(outOff[i]) < unchecked(outLen[i]) ? EVENTTYPE_FD_WRITE : EVENTTYPE_FD_READ);
      store<u32>(p + 16, <u32>unchecked(fds[i]));
      n++;
    }
    if (poll_oneoff(s, ev, <u32>n, nOut) != 0) return 1;
    const got = load<u32>(nOut);
    for (let k: u32 = 0; k < got; k++) {
      const e = ev + <usize>(k * EVENT_SIZE);
      const ud = <i32>load<u64>(e);
      if (ud == 0) {
        for (;;) {
          const r = sock_accept(<u32>listener, FDFLAGS_NONBLOCK, nOut + 4);
          if (r == EAGAIN) break;
          if (r == EMFILE || r == ENFILE) { acceptPaused = true; break; }
          if (r != 0) { console.log("listener closed"); return 0; }
          let i = 0;
          while (i < MAX_CONNS && unchecked(fds[i]) >= 0) i++;
          if (i == MAX_CONNS) { fd_close(load<u32>(nOut + 4)); break; }
          unchecked(fds[i] = <i32>load<u32>(nOut + 4));
          if (i >= slotsEnd) slotsEnd = i + 1;
          unchecked(inLen[i] = 0); unchecked(outLen[i] = 0); unchecked(outOff[i] = 0); unchecked(closeAfter[i] = false);
          open++;
        }
        continue;
      }
      const i = ud - 1;
      if (i < 0 || i >= slotsEnd || unchecked(fds[i]) < 0) continue; // userdata is ours; checked all the same
      let alive = load<u16>(e + 8) == 0;
      if (alive && load<u8>(e + 10) == EVENTTYPE_FD_READ) alive = readable(i);
      if (alive) alive = flush(i);
      // Output drained: requests held back while it was pending, then close if asked.
      if (alive && unchecked(outLen[i]) == 0 && unchecked(inLen[i]) > 0 && !unchecked(closeAfter[i])) alive = serve(i) && flush(i);
      if (alive && unchecked(outLen[i]) == 0 && unchecked(closeAfter[i])) alive = false;
      if (!alive) { closeSlot(i); open--; acceptPaused = false; }
    }
  }
  return 0; // unreachable
}
