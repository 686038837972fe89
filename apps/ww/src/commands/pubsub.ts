import { createInterface } from 'node:readline'
import { pubsub as capPubsub } from '@ww/schema'
import type { Command } from '../command.js'
import { UsageError } from '../command.js'
import { summaryOf } from './index.js'
import { connectHost, remoteFailure } from '../client.js'
import { style } from '../style.js'
import { CLIENT_HELP, CLIENT_OPTIONS, hostFlag, parseCount, writeJson } from './args.js'
import { untilAborted } from './wait.js'

const TOPIC_HINT = 'topic names are 1–128 characters: letters, digits and _ . ~ -'
const TOPIC = /^[A-Za-z0-9_.~-]{1,128}$/
const dec = new TextDecoder()

function topicArg(name: string | undefined, usage: string): string {
  if (name === undefined) throw new UsageError('missing the topic', `usage: ${usage}`)
  if (!TOPIC.test(name)) throw new UsageError(`'${name}' is not a topic name`, TOPIC_HINT)
  return name
}

/** `ww pub TOPIC MSG`: publishes one message through the connected host (or one per line of stdin). */
export const pub: Command = {
  name: 'pub',
  summary: summaryOf('pub'),
  usage: 'ww pub TOPIC (MESSAGE | --stdin) [--host ADDR] [--json]',
  options: { ...CLIENT_OPTIONS, stdin: { type: 'boolean' } },
  optionHelp: { ...CLIENT_HELP, stdin: 'publish each line of stdin as one message, in order, until it ends (one publisher: its sequence numbers run on)' },
  details: [
    'The message is sent as UTF-8 bytes to every subscriber in the cluster (its',
    'publisher is the host you are connected to, pid 0).',
    '',
    'Examples:',
    '  ww pub chat "hello, everyone"',
    '  tail -f app.log | ww pub logs --stdin',
  ].join('\n'),
  async run(args, io, signal) {
    const usage = 'ww pub TOPIC MESSAGE, or ww pub TOPIC --stdin'
    const [name, message, ...extra] = args.positionals
    const topic = topicArg(name, usage)
    const lines = args.values.stdin === true
    if (lines && message !== undefined) throw new UsageError('give a MESSAGE or --stdin, not both', `usage: ${usage}`)
    if (!lines && message === undefined) throw new UsageError('missing the message', `usage: ${usage} (quote a message with spaces)`)
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`, 'quote a message with spaces: ww pub chat "hello there"')
    if (lines && io.stdin === undefined) throw new UsageError('--stdin: this ww has no standard input', `usage: ${usage}`)
    await using s = await connectHost(hostFlag(args), io.env, signal)
    const enc = new TextEncoder()
    let messages = 0
    let bytes = 0
    try {
      const t = s.host.pubSub().getPubSub().join((p) => p.setName(topic)).getTopic()
      const send = async (text: string): Promise<void> => {
        const b = enc.encode(text)
        await t.publish((p) => p.setMsg(b))
        messages++
        bytes += b.length
      }
      if (!lines) await send(message!)
      else {
        // Each publish is answered before the next line is read: a slow host pushes back on stdin.
        const rl = createInterface({ input: io.stdin!, crlfDelay: Infinity })
        signal.addEventListener('abort', () => rl.close(), { once: true })
        for await (const line of rl) await send(line)
      }
    } catch (e) {
      throw remoteFailure(e, `publishing on ${topic}`)
    }
    if (args.values.json === true) writeJson(io, lines ? { topic, messages, bytes } : { topic, bytes })
    else io.stdout.write(style(io).dim(lines ? `published ${messages} message(s), ${bytes} byte(s) on ${topic}` : `published ${bytes} byte(s) on ${topic}`) + '\n')
    return 0
  },
}

/** `ww sub TOPIC`: prints the messages on a topic as they come. */
export const sub: Command = {
  name: 'sub',
  summary: summaryOf('sub'),
  usage: 'ww sub TOPIC [--count N] [--host ADDR] [--json]',
  options: { ...CLIENT_OPTIONS, count: { type: 'string' } },
  optionHelp: { ...CLIENT_HELP, count: 'exit after N messages (default: until Ctrl-C)' },
  details: [
    'One line per message: the publisher (host/pid), its sequence number and the text',
    '(`--json`: {"topic","from","pid","seq","data"} per line). "subscribed to TOPIC" goes to',
    'stderr once the subscription is in place. Messages dropped because this client fell',
    'behind are reported, not silently lost.',
    '',
    'Example:',
    '  ww sub chat --count 1 &  ww pub chat hi',
  ].join('\n'),
  async run(args, io, signal) {
    const usage = 'ww sub TOPIC [--count N]'
    const [name, ...extra] = args.positionals
    const topic = topicArg(name, usage)
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`, `usage: ${usage}`)
    const count = parseCount(args.values.count, '--count')
    const json = args.values.json === true
    const st = style(io)
    await using s = await connectHost(hostFlag(args), io.env, signal)
    let seen = 0
    let stop!: () => void
    const stopped = new Promise<void>((r) => { stop = r })
    let ended: string | undefined
    const subscriber = new capPubsub.Subscriber.Server({
      deliver(p) {
        const l = p.getMessages()
        const dropped = Number(p.getDropped())
        if (dropped > 0) io.stderr.write(`ww sub: ${dropped} message(s) dropped (this client fell behind)\n`)
        for (let i = 0; i < l.getLength() && (count === undefined || seen < count); i++) {
          const m = l.get(i)
          const from = m.getPublisher().getHost()
          const pid = m.getPublisher().getPid()
          const data = dec.decode(m.getData().toUint8Array())
          if (json) writeJson(io, { topic, from, pid, seq: m.getSeq(), data })
          else io.stdout.write(`${st.cyan(`[${from}/${pid} #${m.getSeq()}]`)} ${data}\n`)
          seen++
        }
        if (count !== undefined && seen >= count) stop()
      },
      done(p) { ended = p.getReason(); stop() },
    })
    try {
      const t = s.host.pubSub().getPubSub().join((p) => p.setName(topic)).getTopic()
      await t.subscribe((p) => { p.setHandler(subscriber); p.initOptions().setBufferSize(256) })
    } catch (e) {
      throw remoteFailure(e, `subscribing to ${topic}`)
    }
    io.stderr.write(style(io, 'stderr').dim(`subscribed to ${topic} (Ctrl-C to stop)`) + '\n')
    await untilAborted(signal, stopped)
    if (ended !== undefined) { io.stderr.write(`ww sub: the subscription ended: ${ended || 'by the host'}\n`); return 1 }
    return 0
  },
}
