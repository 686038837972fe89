#!/usr/bin/env node
// Rewrites the figures table of bench/README.md from bench/results/*.json, so the README
// always shows the latest `pnpm bench` run (between the two marker lines).
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'

const dir = new URL('../bench/results/', import.meta.url)
const readme = new URL('../bench/README.md', import.meta.url)
const rows = readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')))
const fmt = (x) => (typeof x === 'number' ? x.toLocaleString('en-US', { maximumFractionDigits: 1 }) : '')
const table = [
  '| benchmark | value | unit | baseline | baseline value | ratio | node | date |',
  '|---|---:|---|---|---:|---:|---|---|',
  ...rows.map((r) => `| ${r.name} | ${fmt(r.value)} | ${r.unit} | ${r.baseline?.name ?? ''} | ${fmt(r.baseline?.value)} | ${fmt(r.ratio)} | ${r.node} | ${r.date.slice(0, 10)} |`),
].join('\n')
const BEGIN = '<!-- figures:begin -->'
const END = '<!-- figures:end -->'
const text = readFileSync(readme, 'utf8')
const start = text.indexOf(BEGIN)
const end = text.indexOf(END)
if (start < 0 || end < start) throw new Error('bench/README.md lacks the figures markers')
writeFileSync(readme, `${text.slice(0, start + BEGIN.length)}\n${table}\n${text.slice(end)}`)
console.log(`bench/README.md: ${rows.length} results`)
