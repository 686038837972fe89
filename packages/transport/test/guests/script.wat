;; A scriptable ww guest: it runs a list of ops (send a frame, recv, poll, grow memory,
;; loop, trap) that the host-side builder (src/bench/guests.ts) places in a data segment
;; together with pre-encoded frames. Received frames are logged as [u32 len, u32 0, frame]
;; at 8-aligned addresses from the log cursor, so tests can decode what the guest got.
;;
;; Layout: 1024 asyncify header {current, end} + 16 KiB stack; {{script}} script
;; (u32 logBase, u32 logEnd, then ops of 4 u32 words); frames and log above.
(module
  (import "ww" "send" (func $send (param i32 i32) (result i32)))
  (import "ww" "recv" (func $recv (param i32 i32) (result i32)))
  (import "ww" "poll" (func $poll (param i32 i32) (result i32)))
  (memory (export "memory") {{pages}})
  (global $cursor (mut i32) (i32.const 0))
  (global $logEnd (mut i32) (i32.const 0))
  (global $count (mut i32) (i32.const 0))
  (global $needed (mut i32) (i32.const 0))
  (global $empty (mut i32) (i32.const 0))
  (global $closed (mut i32) (i32.const 0))
  (data (i32.const 1024) "\00\00\00\00{{asyncEnd}}")
  {{data}}

  (func (export "ww_abi_v1"))
  (func (export "ww_asyncify_data") (result i32) (i32.const 1024))
  (func (export "frames") (result i32) (global.get $count))
  (func (export "needed") (result i32) (global.get $needed))
  (func (export "empty_polls") (result i32) (global.get $empty))
  (func (export "closed") (result i32) (global.get $closed))
  (func (export "cursor") (result i32) (global.get $cursor))

  ;; Log a frame of length $r that the host wrote at cursor+8.
  (func $store (param $r i32)
    (i32.store (global.get $cursor) (local.get $r))
    (i32.store offset=4 (global.get $cursor) (i32.const 0))
    (global.set $cursor (i32.and (i32.add (i32.add (global.get $cursor) (local.get $r)) (i32.const 15)) (i32.const -8)))
    (global.set $count (i32.add (global.get $count) (i32.const 1))))

  (func $room (result i32)
    (i32.sub (i32.sub (global.get $logEnd) (global.get $cursor)) (i32.const 8)))

  ;; recv with capacity $cap (0: all the log room left); on -needed, retry with that much.
  (func $recvOne (param $cap i32)
    (local $r i32)
    (if (i32.eqz (local.get $cap)) (then (local.set $cap (call $room))))
    (local.set $r (call $recv (i32.add (global.get $cursor) (i32.const 8)) (local.get $cap)))
    (if (i32.lt_s (local.get $r) (i32.const 0)) (then
      (global.set $needed (i32.sub (i32.const 0) (local.get $r)))
      (if (i32.gt_u (global.get $needed) (call $room)) (then unreachable))
      (local.set $r (call $recv (i32.add (global.get $cursor) (i32.const 8)) (global.get $needed)))))
    (if (i32.gt_s (local.get $r) (i32.const 0))
      (then (call $store (local.get $r)))
      (else (global.set $closed (i32.const 1)))))

  (func $pollOne (param $cap i32)
    (local $r i32)
    (if (i32.eqz (local.get $cap)) (then (local.set $cap (call $room))))
    (local.set $r (call $poll (i32.add (global.get $cursor) (i32.const 8)) (local.get $cap)))
    (if (i32.gt_s (local.get $r) (i32.const 0))
      (then (call $store (local.get $r)))
      (else (global.set $empty (i32.add (global.get $empty) (i32.const 1))))))

  ;; Ops: 0 end, 1 send(a,b), 2 recv(cap a), 3 poll(cap a), 4 grow(a pages),
  ;; 5 loop (a times in all, back to op address b; c is its counter), 6 cursor := a, 7 trap.
  (func (export "ww_main") (result i32)
    (local $pc i32) (local $op i32) (local $a i32) (local $b i32) (local $c i32)
    (global.set $cursor (i32.load (i32.const {{script}})))
    (global.set $logEnd (i32.load offset=4 (i32.const {{script}})))
    (local.set $pc (i32.const {{firstOp}}))
    (block $done
      (loop $next
        (local.set $op (i32.load (local.get $pc)))
        (local.set $a (i32.load offset=4 (local.get $pc)))
        (local.set $b (i32.load offset=8 (local.get $pc)))
        (local.set $pc (i32.add (local.get $pc) (i32.const 16)))
        (br_if $done (i32.eqz (local.get $op)))
        (if (i32.eq (local.get $op) (i32.const 1)) (then (drop (call $send (local.get $a) (local.get $b)))))
        (if (i32.eq (local.get $op) (i32.const 2)) (then (call $recvOne (local.get $a))))
        (if (i32.eq (local.get $op) (i32.const 3)) (then (call $pollOne (local.get $a))))
        (if (i32.eq (local.get $op) (i32.const 4)) (then (drop (memory.grow (local.get $a)))))
        (if (i32.eq (local.get $op) (i32.const 5)) (then
          (local.set $c (i32.add (i32.load offset=12 (i32.sub (local.get $pc) (i32.const 16))) (i32.const 1)))
          (if (i32.lt_u (local.get $c) (local.get $a))
            (then
              (i32.store offset=12 (i32.sub (local.get $pc) (i32.const 16)) (local.get $c))
              (local.set $pc (local.get $b)))
            (else (i32.store offset=12 (i32.sub (local.get $pc) (i32.const 16)) (i32.const 0))))))
        (if (i32.eq (local.get $op) (i32.const 6)) (then (global.set $cursor (local.get $a))))
        (if (i32.eq (local.get $op) (i32.const 7)) (then unreachable))
        (br $next)))
    (global.get $count))
)
