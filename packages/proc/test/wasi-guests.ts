// WAT guests that use the restricted WASI, for the composition tests.
import { PRELUDE } from '../src/bench/guests.js'

const WASI = `
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  ${PRELUDE}
  (data (i32.const 1100) "hi\\n/etc/passwd")
  ;; one iovec at 1024: "hi\\n"
  (data (i32.const 1024) "\\4c\\04\\00\\00\\03\\00\\00\\00")
  ;; on fd 1: open, but no path row covers it (ENOTCAPABLE, a denial); fd 3 is not open (EBADF, not one)
  (func $open_passwd (drop (call $path_open (i32.const 1) (i32.const 0) (i32.const 1103) (i32.const 11) (i32.const 0) (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 1200))))
  (func $say_hi (drop (call $fd_write (i32.const 1) (i32.const 1024) (i32.const 1) (i32.const 1208))))
  ;; a clock subscription at 8192: monotonic, relative, 60 s; the event goes to 8256
  (func $sleep_a_minute
    (i32.store8 (i32.const 8200) (i32.const 0))
    (i32.store (i32.const 8208) (i32.const 1))
    (i64.store (i32.const 8216) (i64.const 60000000000))
    (drop (call $poll (i32.const 8192) (i32.const 8256) (i32.const 1) (i32.const 8300))))
`

/** Tries /etc/passwd (denied), says hi on stdout, then proc_exit(3). */
export const WASI_EXIT3 = `(module ${WASI}
  (func (export "_start") (call $open_passwd) (call $say_hi) (call $proc_exit (i32.const 3))))`

/** Tries /etc/passwd twice, says hi, then sleeps a minute (parked in poll_oneoff). */
export const WASI_SLEEPER = `(module ${WASI}
  (func (export "_start") (call $open_passwd) (call $open_passwd) (call $say_hi) (call $sleep_a_minute)))`

/** Two entry points: ww_main exits 1, other exits 2. */
export const TWO_ENTRIES = `(module ${PRELUDE}
  (func (export "ww_main") (result i32) (i32.const 1))
  (func (export "other") (result i32) (i32.const 2)))`

/** Asks a plugin's import for its exit code. */
export const ASKS_PLUGIN = `(module
  (import "answers" "get" (func $get (result i32)))
  (memory (export "memory") 1)
  (func (export "ww_main") (result i32) (call $get)))`

/** Hands its transport a frame pointer past the end of its memory. */
export const BAD_FRAME_POINTER = `(module
  (import "ww" "send" (func $send (param i32 i32) (result i32)))
  (import "ww" "recv" (func $recv (param i32 i32) (result i32)))
  (import "ww" "poll" (func $poll (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "ww_main") (result i32) (call $send (i32.const 0xfffffff0) (i32.const 100))))`

/** Hands fd_write an iovec array past the end of its memory, then exits with the errno it got. */
export const BAD_IOVEC = `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start") (result i32) (call $fd_write (i32.const 1) (i32.const 65530) (i32.const 4) (i32.const 0))))`

/** Writes `n` lines of 1000 'a's then "end\n" to stdout, then returns 0. */
export const CHATTY = (n: number): string => `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  ${PRELUDE}
  ;; (below 4096: the asyncify data area) iovec at 9000: 1001 bytes at 12288 ("a"*1000 + "\\n"); iovec at 9016: "end\\n" at 9100
  (data (i32.const 9000) "\\00\\30\\00\\00\\e9\\03\\00\\00")
  (data (i32.const 9016) "\\8c\\23\\00\\00\\04\\00\\00\\00")
  (data (i32.const 9100) "end\\n")
  (func (export "_start") (local $i i32)
    (memory.fill (i32.const 12288) (i32.const 97) (i32.const 1000))
    (i32.store8 (i32.const 13288) (i32.const 10))
    (loop $l
      (drop (call $fd_write (i32.const 1) (i32.const 9000) (i32.const 1) (i32.const 9032)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const ${n}))))
    (drop (call $fd_write (i32.const 1) (i32.const 9016) (i32.const 1) (i32.const 9032)))))`

/**
 * Echoes its socket fd 3 (a connection its spawner dialled and handed in): fd_read into
 * 12288, fd_write the bytes back, until end of stream; exits 0, or with the errno that
 * stopped it (8 EBADF without the conn, 76 ENOTCAPABLE without the grant).
 */
export const CONN_ECHO = `(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  ${PRELUDE}
  (func (export "_start") (result i32) (local $r i32) (local $n i32)
    (block $eof (loop $l
      ;; iovec at 9000: up to 4096 bytes at 12288; count at 9008
      (i32.store (i32.const 9000) (i32.const 12288))
      (i32.store (i32.const 9004) (i32.const 4096))
      (local.set $r (call $fd_read (i32.const 3) (i32.const 9000) (i32.const 1) (i32.const 9008)))
      (if (local.get $r) (then (return (local.get $r))))
      (local.set $n (i32.load (i32.const 9008)))
      (br_if $eof (i32.eqz (local.get $n)))
      (i32.store (i32.const 9004) (local.get $n))
      (local.set $r (call $fd_write (i32.const 3) (i32.const 9000) (i32.const 1) (i32.const 9008)))
      (if (local.get $r) (then (return (local.get $r))))
      (br $l)))
    (i32.const 0)))`

/** Prints data/in.txt of its scratch dir (fd 3) to stdout; exits with the first errno, else 0. */
export const SEEDED_CAT = `(module
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 9000) "data/in.txt")
  (func (export "_start") (result i32)
    (local $e i32)
    (local.set $e (call $path_open (i32.const 3) (i32.const 0) (i32.const 9000) (i32.const 11) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 9100)))
    (if (local.get $e) (then (return (local.get $e))))
    ;; one iovec at 9200: 4096 bytes at 12288
    (i32.store (i32.const 9200) (i32.const 12288))
    (i32.store (i32.const 9204) (i32.const 4096))
    (local.set $e (call $fd_read (i32.load (i32.const 9100)) (i32.const 9200) (i32.const 1) (i32.const 9300)))
    (if (local.get $e) (then (return (local.get $e))))
    (i32.store (i32.const 9204) (i32.load (i32.const 9300)))
    (call $fd_write (i32.const 1) (i32.const 9200) (i32.const 1) (i32.const 9300))))`

/**
 * Says hi on stdout, then polls stdout for writing with a 60 s clock beside it; exits with
 * 100 × the first event's type (2: fd_write, 0: clock) + the number of events, or the errno.
 */
export const STDOUT_POLL = `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; the ABI's asyncify data area (header at 16, area to 4096): it waits in poll_oneoff
  (data (i32.const 16) "\\18\\00\\00\\00\\00\\10\\00\\00")
  (func (export "ww_asyncify_data") (result i32) (i32.const 16))
  (data (i32.const 9000) "hi\\n")
  (func (export "_start") (result i32)
    (local $e i32)
    (i32.store (i32.const 9200) (i32.const 9000))
    (i32.store (i32.const 9204) (i32.const 3))
    (drop (call $fd_write (i32.const 1) (i32.const 9200) (i32.const 1) (i32.const 9300)))
    ;; subscription 0 at 10000: fd_write on fd 1; subscription 1 at 10048: monotonic clock, 60 s
    (i32.store8 (i32.const 10008) (i32.const 2))
    (i32.store (i32.const 10016) (i32.const 1))
    (i32.store8 (i32.const 10056) (i32.const 0))
    (i32.store (i32.const 10064) (i32.const 1))
    (i64.store (i32.const 10072) (i64.const 60000000000))
    (local.set $e (call $poll (i32.const 10000) (i32.const 11000) (i32.const 2) (i32.const 9400)))
    (if (local.get $e) (then (return (local.get $e))))
    (i32.add (i32.mul (i32.load8_u (i32.const 11010)) (i32.const 100)) (i32.load (i32.const 9400)))))`

/** Creates the file "f" in its scratch dir (fd 3; O_EXCL) and exits with path_open's errno (8 EBADF: no scratch dir; 20 EEXIST). */
export const SCRATCH_CREATE = `(module
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 1100) "f")
  ;; oflags 5 (creat | excl); rights fd_read | fd_write
  (func (export "_start") (call $proc_exit (call $path_open (i32.const 3) (i32.const 0) (i32.const 1100) (i32.const 1) (i32.const 5) (i64.const 66) (i64.const 0) (i32.const 0) (i32.const 1200)))))`
