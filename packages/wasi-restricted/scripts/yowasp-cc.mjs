#!/usr/bin/env node
// Compiles one C file with @yowasp/clang (clang + wasi-libc built to wasm), in its own
// process: the tests' jest vm context cannot host its runtime.
// Usage: node scripts/yowasp-cc.mjs <module spec> <src.c> <out.wasm> [clang flags…]
import { readFileSync, writeFileSync } from 'node:fs'
import { basename } from 'node:path'

const [spec, src, out, ...flags] = process.argv.slice(2)
const { runClang } = await import(spec)
const name = basename(src)
const files = await runClang(['clang', ...flags, name, '-o', 'out.wasm'], { [name]: readFileSync(src, 'utf8') })
writeFileSync(out, files['out.wasm'])
