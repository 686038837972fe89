// One Linux network namespace per host, joined by veth pairs to one bridge (iproute2, as
// root). Host i listens on its own address; the harness's relay for it listens, in the
// root namespace, on a second address (relayAddress(i)) that every other host is told
// to use, so each connection between two hosts crosses one relay, which sees the true
// source address: the relays are the links (delay, resets, partitions). Everything is
// named after a run id so concurrent runs do not meet.
import { execFileSync } from 'node:child_process'
import { randomInt } from 'node:crypto'

export class NetnsUnavailableError extends Error {
  readonly code = 'ERR_NETNS_UNAVAILABLE'
  constructor(reason: string) {
    super(`network namespaces are not available here: ${reason}`)
    this.name = 'NetnsUnavailableError'
  }
}

/** Why namespaces cannot be used on this machine, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `${process.platform} is not Linux`
  if (process.getuid?.() !== 0) return 'not root (ip netns needs CAP_SYS_ADMIN)'
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' })
  } catch (e) {
    return `\`ip netns list\` failed: ${(e as Error).message}`
  }
  return undefined
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

export class Netns {
  readonly run = randomInt(0x1000, 0xffff).toString(16)
  readonly #net = [randomInt(100, 200), randomInt(0, 125) * 2] as const
  readonly subnet = `10.${this.#net[0]}.${this.#net[1]}`
  /** Where the relays listen, one address per host (on the bridge, in the root namespace). */
  readonly relaySubnet = `10.${this.#net[0]}.${this.#net[1] + 1}`
  readonly bridge = `wwfbr${this.run}`
  readonly names: string[] = []

  constructor(readonly hosts: number) {
    if (hosts < 1 || hosts > 200) throw new RangeError(`hosts must be 1..200, not ${hosts}`)
    const why = netnsUnavailable()
    if (why) throw new NetnsUnavailableError(why)
    try {
      ip('link', 'add', this.bridge, 'type', 'bridge')
      ip('addr', 'add', `${this.subnet}.254/24`, 'dev', this.bridge)
      ip('link', 'set', this.bridge, 'up')
      for (let i = 0; i < hosts; i++) this.addHost(i)
    } catch (e) {
      this.close()
      throw e
    }
  }

  /** The namespace of host `i`. */
  name(i: number): string { return `wwf${this.run}-${i}` }

  /** Host `i`'s address on the bridge. */
  address(i: number): string { return `${this.subnet}.${i + 1}` }

  /** The address host `i`'s relay listens on (the one the other hosts are told). */
  relayAddress(i: number): string { return `${this.relaySubnet}.${i + 1}` }

  /** The command line that runs `argv` inside host `i`'s namespace. */
  exec(i: number, argv: string[]): [string, string[]] {
    return ['ip', ['netns', 'exec', this.name(i), ...argv]]
  }

  /** Deletes the namespaces (their veth ends go with them) and the bridge. */
  close(): void {
    for (const n of this.names.splice(0)) {
      try { ip('netns', 'del', n) } catch { /* already gone */ }
    }
    try { ip('link', 'del', this.bridge) } catch { /* already gone */ }
  }

  /** One more namespace, for host `i` (a host joining later: churn). */
  addHost(i: number): void {
    const ns = this.name(i)
    const outside = `wwf${this.run}h${i}`
    const inside = `wwf${this.run}n${i}`
    ip('netns', 'add', ns)
    this.names.push(ns)
    ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside)
    ip('link', 'set', inside, 'netns', ns)
    ip('link', 'set', outside, 'master', this.bridge)
    ip('link', 'set', outside, 'up')
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up')
    ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${this.address(i)}/24`, 'dev', inside)
    ip('netns', 'exec', ns, 'ip', 'link', 'set', inside, 'up')
    ip('netns', 'exec', ns, 'ip', 'route', 'add', 'default', 'via', `${this.subnet}.254`)
    ip('addr', 'add', `${this.relayAddress(i)}/32`, 'dev', this.bridge)
  }
}
