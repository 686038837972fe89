// The load for bench-sock.ts, in a process of its own (its CPU is not the server's):
// `node bench-sock-client.js HOST:PORT CONNECTIONS MS`. Each connection sends a GET,
// waits for the whole answer (its length is learned from the first one: the guest's
// body echoes the path, which never changes), sends the next, for MS milliseconds.
// Prints {"requests": n, "ms": elapsed, "roundTripUs": median µs of a round trip}.
import { connect, type Socket } from 'node:net'

const [addr, connections, ms] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4])]
const host = addr.slice(0, addr.lastIndexOf(':'))
const port = Number(addr.slice(addr.lastIndexOf(':') + 1))
const REQUEST = Buffer.from('GET /bench/echo HTTP/1.1\r\nHost: bench\r\n\r\n')

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, noDelay: true })
    s.once('connect', () => resolve(s))
    s.once('error', reject)
  })
}

/** Round trips on one connection until `end` (performance.now()), each one's µs in `rtts`. */
async function run(s: Socket, end: number, rtts: number[]): Promise<number> {
  let answerBytes = 0
  let got = 0
  let sent = 0
  let n = 0
  let wake: (() => void) | undefined
  s.on('data', (b: Buffer) => {
    got += b.length
    if (answerBytes === 0 && b.includes('\r\n\r\n')) {
      const head = b.subarray(0, b.indexOf('\r\n\r\n')).toString()
      answerBytes = b.indexOf('\r\n\r\n') + 4 + Number(/content-length:\s*(\d+)/i.exec(head)![1])
    }
    if (answerBytes > 0 && got >= answerBytes) { got -= answerBytes; wake?.() }
  })
  while (performance.now() < end) {
    sent = performance.now()
    const answered = new Promise<void>((resolve) => { wake = resolve })
    s.write(REQUEST)
    await answered
    rtts.push((performance.now() - sent) * 1000)
    n++
  }
  s.destroy()
  return n
}

const sockets = await Promise.all(Array.from({ length: connections }, open))
const rtts: number[] = []
const t0 = performance.now()
const counts = await Promise.all(sockets.map((s) => run(s, t0 + ms, rtts)))
const elapsed = performance.now() - t0
rtts.sort((a, b) => a - b)
process.stdout.write(JSON.stringify({ requests: counts.reduce((a, b) => a + b, 0), ms: elapsed, roundTripUs: rtts[rtts.length >> 1] }) + '\n')
