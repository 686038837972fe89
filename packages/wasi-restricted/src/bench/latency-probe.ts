#!/usr/bin/env node
// net.http's latency probe, run as its own process while autocannon loads the server:
// one keep-alive connection, one GET about every millisecond, each timed with hrtime from
// write to the last body byte. autocannon's histogram counts whole milliseconds, and at 16
// connections both servers answer in well under one (its p99 read "0 ms vs 0"), so the
// benchmark's latency percentiles come from here, in microseconds. Paced, not flat out,
// so the probe adds a little load, not a 17th busy client.
// Usage: node latency-probe.js <url> <seconds>   → one JSON line {"n","p50","p99","max"} (µs)
import { connect } from 'node:net'

const HEAD_END = Buffer.from('\r\n\r\n')
const INTERVAL_MS = 1

export interface Latency { n: number; p50: number; p99: number; max: number }

export async function probe(url: string, seconds: number): Promise<Latency> {
  const u = new URL(url)
  const socket = connect(Number(u.port), u.hostname)
  socket.setNoDelay(true)
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  const request = Buffer.from(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\n\r\n`)
  let buffered: Buffer = Buffer.alloc(0)
  let done: (() => void) | undefined
  socket.on('data', (b: Buffer) => {
    buffered = buffered.length === 0 ? b : Buffer.concat([buffered, b])
    const head = buffered.indexOf(HEAD_END)
    if (head < 0) return
    const m = /content-length:\s*(\d+)/i.exec(buffered.subarray(0, head).toString('latin1'))
    if (m === null) throw new Error(`the server answered without Content-Length: ${buffered.subarray(0, head).toString('latin1')}`)
    const end = head + 4 + Number(m[1])
    if (buffered.length < end) return
    if (buffered.length > end) throw new Error('the server sent bytes nobody asked for')
    buffered = Buffer.alloc(0)
    done?.()
  })
  const closed = new Promise<never>((_, reject) => socket.once('close', () => reject(new Error('the server closed the probe connection'))))
  closed.catch(() => {})
  const samples: number[] = []
  const until = performance.now() + seconds * 1000
  try {
    while (performance.now() < until) {
      const answered = new Promise<void>((resolve) => { done = resolve })
      const t0 = process.hrtime.bigint()
      socket.write(request)
      await Promise.race([answered, closed])
      samples.push(Number(process.hrtime.bigint() - t0) / 1000)
      await new Promise((r) => setTimeout(r, INTERVAL_MS))
    }
  } finally {
    socket.destroy()
  }
  samples.sort((a, b) => a - b)
  const at = (q: number): number => Math.round(samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!)
  return { n: samples.length, p50: at(0.5), p99: at(0.99), max: Math.round(samples[samples.length - 1]!) }
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const [url, seconds] = process.argv.slice(2)
  if (url === undefined) { console.error('usage: latency-probe <url> <seconds>'); process.exit(2) }
  console.log(JSON.stringify(await probe(url, Number(seconds ?? 3))))
}
