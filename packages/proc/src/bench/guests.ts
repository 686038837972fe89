// WAT guests for tests and benchmarks, compiled with wabt (a dev dependency) and cached
// under build/guests.

import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import wabtInit from 'wabt'

const CACHE = join(dirname(fileURLToPath(import.meta.url)), '..', 'build', 'guests')
let wabt: Awaited<ReturnType<typeof wabtInit>> | undefined

export async function wat(source: string, features: Record<string, boolean> = {}): Promise<Uint8Array> {
  const key = createHash('sha256').update(source + JSON.stringify(features)).digest('hex').slice(0, 24)
  const file = join(CACHE, `${key}.wasm`)
  if (existsSync(file)) return new Uint8Array(readFileSync(file))
  wabt ??= await wabtInit()
  const m = wabt.parseWat(`${key}.wat`, source, features)
  try {
    const bytes = new Uint8Array(m.toBinary({}).buffer)
    mkdirSync(CACHE, { recursive: true })
    writeFileSync(file, bytes)
    return bytes
  } finally {
    m.destroy()
  }
}

/**
 * Imports, one page of memory and the ABI's asyncify data area (header at 16, area to 4096).
 * Messaging is by handle (an index into the process's own table of mailbox capabilities):
 * `cap` is the handle of the capability the last message carried, `sender` a handle back
 * to its sender, `parent` the parent's; -1 when there is none.
 */
export const PRELUDE = `
  (import "ww_proc" "self" (func $self (result i32)))
  (import "ww_proc" "send" (func $send (param i32 i32 i32) (result i32)))
  (import "ww_proc" "send_cap" (func $send_cap (param i32 i32 i32 i32) (result i32)))
  (import "ww_proc" "recv" (func $recv (param i32 i32) (result i32)))
  (import "ww_proc" "sender" (func $sender (result i32)))
  (import "ww_proc" "kind" (func $kind (result i32)))
  (import "ww_proc" "cap" (func $cap (result i32)))
  (import "ww_proc" "parent" (func $parent (result i32)))
  (import "ww_proc" "drop" (func $drop (param i32) (result i32)))
  (import "ww_proc" "exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "\\18\\00\\00\\00\\00\\10\\00\\00")
  (func (export "ww_asyncify_data") (result i32) (i32.const 16))
`

/** Loops forever. */
export const SPIN = `(module ${PRELUDE} (func (export "ww_main") (loop $l (br $l))))`

/** Loops forever without the asyncify area: it cannot yield, only be killed. */
export const SPIN_NO_YIELD = `(module (func (export "ww_main") (loop $l (br $l))))`

/** Grows memory a page at a time; exits 7 when a grow fails. */
export const MEMBOMB = `(module ${PRELUDE}
  (func (export "ww_main")
    (loop $l (br_if $l (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
    (call $exit (i32.const 7))))`

/** Traps (unreachable). */
export const TRAP = `(module ${PRELUDE} (func (export "ww_main") unreachable))`

/** Exits with the code it was given: the first byte of its first message. */
export const EXIT_WITH_FIRST_BYTE = `(module ${PRELUDE}
  (func (export "ww_main") (result i32)
    (drop (call $recv (i32.const 4096) (i32.const 256)))
    (i32.load8_u (i32.const 4096))))`

/** Echo n times: receives a message and sends it back to its sender; then exits with n. */
export const ECHO = `(module ${PRELUDE}
  (func (export "ww_main") (result i32) (local $n i32) (local $len i32)
    (block $done (loop $l
      (local.set $len (call $recv (i32.const 4096) (i32.const 1024)))
      ;; an empty message means "stop"
      (br_if $done (i32.eqz (local.get $len)))
      (drop (call $send (call $sender) (i32.const 4096) (local.get $len)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $l)))
    (local.get $n)))`

/**
 * Ring member: waits for a message carrying the next member's mailbox (or none: the
 * last), then for a token it passes on with its first byte incremented; exits with the
 * byte it saw.
 */
export const RING = `(module ${PRELUDE}
  (func (export "ww_main") (result i32) (local $next i32) (local $b i32)
    (drop (call $recv (i32.const 4096) (i32.const 4)))
    (local.set $next (call $cap))
    (drop (call $recv (i32.const 4100) (i32.const 4)))
    (local.set $b (i32.load8_u (i32.const 4100)))
    (i32.store8 (i32.const 4100) (i32.add (local.get $b) (i32.const 1)))
    (if (i32.ge_s (local.get $next) (i32.const 0)) (then (drop (call $send (local.get $next) (i32.const 4100) (i32.const 4)))))
    (i32.and (local.get $b) (i32.const 255))))`

/**
 * Custody: receives a message carrying a target's mailbox, writes "hello custody" at
 * 8192, sends it there, then overwrites those bytes with 'X' and waits for a message
 * before exiting.
 */
export const CUSTODY_SENDER = `(module ${PRELUDE}
  (data (i32.const 8192) "hello custody")
  (func (export "ww_main")
    (drop (call $recv (i32.const 4096) (i32.const 4)))
    (drop (call $send (call $cap) (i32.const 8192) (i32.const 13)))
    (memory.fill (i32.const 8192) (i32.const 88) (i32.const 13))
    (drop (call $recv (i32.const 4096) (i32.const 4)))))`

/** Sends 4 bytes to the mailbox its first message carries until a send fails (at most 1,000 times); exits with that result. */
export const SEND_UNTIL_FAIL = `(module ${PRELUDE}
  (func (export "ww_main") (result i32) (local $to i32) (local $r i32) (local $n i32)
    (drop (call $recv (i32.const 4096) (i32.const 4)))
    (local.set $to (call $cap))
    (block $done (loop $l
      (local.set $r (call $send (local.get $to) (i32.const 4096) (i32.const 4)))
      (br_if $done (local.get $r))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $n) (i32.const 1000)))))
    (local.get $r)))`

/** Busy work: counts to n (its first message, as i32) then waits for a message. */
export const COUNT = `(module ${PRELUDE}
  (func (export "ww_main") (result i32) (local $i i32) (local $n i32)
    (drop (call $recv (i32.const 4096) (i32.const 4)))
    (local.set $n (i32.load (i32.const 4096)))
    (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (i32.const 0)))`

/**
 * Receives messages: from a user message it takes the capability it carries, if any; at
 * the first notice it exits with kind*1000 + 1 + sender (sender: the handle it holds for
 * the process the notice is about, -1 if none, so + 0).
 */
export const WATCHER = `(module ${PRELUDE}
  (func (export "ww_main") (result i32)
    (block $notice (loop $l
      (drop (call $recv (i32.const 4096) (i32.const 1024)))
      (br_if $notice (call $kind))
      (drop (call $cap))
      (br $l)))
    (i32.add (i32.mul (call $kind) (i32.const 1000)) (i32.add (i32.const 1) (call $sender)))))`

/**
 * Ping-pong: receives a count n with the partner's mailbox; n times sends and awaits the
 * reply; then stops the partner.
 */
export const PINGER = `(module ${PRELUDE}
  (func (export "ww_main") (result i32) (local $peer i32) (local $n i32)
    (drop (call $recv (i32.const 4096) (i32.const 8)))
    (local.set $peer (call $cap))
    (local.set $n (i32.load (i32.const 4096)))
    (block $done (loop $l
      (br_if $done (i32.eqz (local.get $n)))
      (drop (call $send (local.get $peer) (i32.const 4104) (i32.const 16)))
      (drop (call $recv (i32.const 4104) (i32.const 16)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $l)))
    (drop (call $send (local.get $peer) (i32.const 4104) (i32.const 0)))
    (i32.const 0)))`

/**
 * Introducer: takes the capability of its first message (b) and of its second (c), then
 * sends [42] to c carrying b; exits with that result * 1000 + b * 10 + c.
 */
export const INTRODUCER = `(module ${PRELUDE}
  (func (export "ww_main") (result i32) (local $b i32) (local $c i32)
    (drop (call $recv (i32.const 4096) (i32.const 16)))
    (local.set $b (call $cap))
    (drop (call $recv (i32.const 4096) (i32.const 16)))
    (local.set $c (call $cap))
    (i32.store8 (i32.const 8192) (i32.const 42))
    (i32.add (i32.mul (call $send_cap (local.get $c) (i32.const 8192) (i32.const 1) (local.get $b)) (i32.const 1000))
      (i32.add (i32.mul (local.get $b) (i32.const 10)) (local.get $c)))))`

/** Relay: passes its first message's bytes on to the capability that message carries; exits with the result * 10 + that handle. */
export const RELAY = `(module ${PRELUDE}
  (func (export "ww_main") (result i32) (local $n i32) (local $h i32)
    (local.set $n (call $recv (i32.const 4096) (i32.const 16)))
    (local.set $h (call $cap))
    (i32.add (i32.mul (call $send (local.get $h) (i32.const 4096) (local.get $n)) (i32.const 10)) (local.get $h))))`

/** Compute kernels for the metering benchmark: a sieve (loops, memory) and recursive fib (calls). */
export const KERNELS = `(module
  (memory (export "memory") 2)
  (data (i32.const 16) "\\18\\00\\00\\00\\00\\10\\00\\00")
  (func (export "ww_asyncify_data") (result i32) (i32.const 16))
  (func $fib (export "fib") (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1))) (call $fib (i32.sub (local.get $n) (i32.const 2)))))))
  ;; primes below n (n <= 126976), sieve in bytes from 4096
  (func (export "sieve") (param $n i32) (result i32) (local $i i32) (local $j i32) (local $c i32)
    (memory.fill (i32.const 4096) (i32.const 0) (local.get $n))
    (local.set $i (i32.const 2))
    (block $out (loop $outer
      (br_if $out (i32.ge_u (local.get $i) (local.get $n)))
      (if (i32.eqz (i32.load8_u (i32.add (i32.const 4096) (local.get $i)))) (then
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (local.set $j (i32.mul (local.get $i) (local.get $i)))
        (block $done (loop $inner
          (br_if $done (i32.gt_u (local.get $i) (i32.const 46340)))
          (br_if $done (i32.ge_u (local.get $j) (local.get $n)))
          (i32.store8 (i32.add (i32.const 4096) (local.get $j)) (i32.const 1))
          (local.set $j (i32.add (local.get $j) (local.get $i)))
          (br $inner)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $outer)))
    (local.get $c)))`

/**
 * State in memory, in a global and in locals on the suspended stack: counts messages
 * (global $g, memory at 8192, local $n) until an empty one; exits with
 * g*10000 + mem*100 + n + the first byte of the data segment at 9000 ('A' = 65, cleared
 * by the start function, so a start that ran twice would show).
 */
export const STATEFUL = `(module ${PRELUDE}
  (global $g (mut i32) (i32.const 0))
  (data (i32.const 9000) "A")
  (func $init (i32.store8 (i32.const 9000) (i32.const 0)))
  (start $init)
  (func (export "ww_main") (result i32) (local $n i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (call $recv (i32.const 4096) (i32.const 64))))
      (global.set $g (i32.add (global.get $g) (i32.const 1)))
      (i32.store (i32.const 8192) (i32.add (i32.load (i32.const 8192)) (i32.const 1)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $l)))
    (i32.add (i32.add (i32.mul (global.get $g) (i32.const 10000)) (i32.mul (i32.load (i32.const 8192)) (i32.const 100)))
      (i32.add (local.get $n) (i32.load8_u (i32.const 9000))))))`
