;; Uses a suspending import of another namespace (env.sleep, a stand-in for a WASI call
;; that must wait): sleeps for each of the i32 durations at 64.. until a 0, sums results.
(module
  (import "env" "sleep" (func $sleep (param i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 1024) "\00\00\00\00\00\08\00\00")  ;; asyncify header: end = 2048
  (data (i32.const 64) "\05\00\00\00\01\00\00\00\07\00\00\00\00\00\00\00")
  (func (export "ww_asyncify_data") (result i32) (i32.const 1024))
  (func (export "ww_main") (result i32)
    (local $p i32) (local $s i32) (local $d i32)
    (local.set $p (i32.const 64))
    (block $done (loop $l
      (local.set $d (i32.load (local.get $p)))
      (br_if $done (i32.eqz (local.get $d)))
      (local.set $s (i32.add (local.get $s) (call $sleep (local.get $d))))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br $l)))
    (local.get $s)))
