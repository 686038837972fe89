;; The floor of every guest→host call: a loop of bare wasm→JS import calls.
(module
  (import "env" "f" (func $f (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "run") (param $n i32) (result i32)
    (local $i i32) (local $s i32)
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $s (i32.add (local.get $s) (call $f (local.get $i) (i32.const 8))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (local.get $s)))
