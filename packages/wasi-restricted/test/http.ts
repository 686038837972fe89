// Clients for the HTTP guest tests: raw sockets (to control keep-alive and reading exactly),
// node:http requests, and waiting for a condition without timing anything.
import { connect, type Socket } from 'node:net'
import { request, Agent } from 'node:http'
import { parseAddr } from '../src/index.js'

export interface Response { status: number; headers: Record<string, string | string[] | undefined>; body: string }

export function get(addr: string, path: string, agent: Agent | false = false): Promise<Response> {
  const { host, port } = parseAddr(addr)
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, agent }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { body += d })
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

export { Agent }

/** A raw TCP client that collects what it receives and how the connection ended. */
export class RawClient {
  readonly socket: Socket
  received = Buffer.alloc(0)
  bytes = 0
  ended: 'fin' | 'error' | undefined
  keep = true
  #waiters: Array<() => void> = []
  readonly connected: Promise<void>

  constructor(addr: string) {
    const { host, port } = parseAddr(addr)
    this.socket = connect({ host, port }) // no half-open: answer the server's FIN with ours, as browsers and curl do
    this.connected = new Promise((resolve, reject) => { this.socket.once('connect', resolve); this.socket.once('error', reject) })
    this.socket.on('data', (d: Buffer) => { this.bytes += d.length; if (this.keep) this.received = Buffer.concat([this.received, d]); this.#wake() })
    this.socket.on('end', () => { this.ended ??= 'fin'; this.#wake() })
    this.socket.on('error', () => { this.ended = 'error'; this.#wake() })
  }
  #wake(): void { for (const w of this.#waiters.splice(0)) w() }
  send(s: string): void { this.socket.write(s) }
  /** Waits until `pred` holds (re-checked on every event of this client). */
  async until(pred: (c: RawClient) => boolean): Promise<void> {
    while (!pred(this)) await new Promise<void>((r) => this.#waiters.push(r))
  }
  text(): string { return this.received.toString('latin1') }
  /** Complete HTTP responses received so far (Content-Length framed). */
  responses(): string[] {
    const out: string[] = []
    let s = this.text()
    for (;;) {
      const h = s.indexOf('\r\n\r\n')
      if (h < 0) return out
      const len = Number(/content-length: *(\d+)/i.exec(s.slice(0, h))?.[1] ?? 0)
      if (s.length < h + 4 + len) return out
      out.push(s.slice(0, h + 4 + len))
      s = s.slice(h + 4 + len)
    }
  }
  close(): void { this.socket.destroy() }
}

/** Waits (without a clock) until `pred` holds, checking after each turn of the event loop. */
export async function eventually(pred: () => boolean, what: string, maxTurns = 20_000): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (pred()) return
    await new Promise((r) => setTimeout(r, 1))
  }
  throw new Error(`never happened: ${what}`)
}
