// The policy as a person reads it: one line per preview1 function, saying what the call
// does under this policy. The README's default table is generated from this
// (scripts/readme-table.mjs) and a test keeps them in sync.

import { PREVIEW1_FUNCTIONS, areaOf, type Area, type Preview1Function } from './functions.js'
import type { FdGroup, Policy, Row } from './policy.js'

export interface DescribedRow {
  readonly function: Preview1Function
  readonly area: Area
  /** The row kind: allow, empty, trap, deny, fds. */
  readonly rule: Row['do']
  /** What the call does, in words. */
  readonly effect: string
}

const KiB = (n: number): string => (n % 1024 === 0 ? `${n / 1024} KiB` : `${n} B`)

function groups(policy: Policy, on: readonly FdGroup[]): string {
  const parts = on.map((g) => g === 'stdio' ? 'stdio (0–2)'
    : g === 'scratch' ? `the scratch dir ${policy.scratch!.mountPath} (fd 3)`
    : 'granted sockets')
  return parts.length === 0 ? 'no fds' : parts.join(', ')
}

function effect(fn: Preview1Function, row: Row, p: Policy): string {
  switch (row.do) {
    case 'deny': return `denied: ${row.errno}`
    case 'empty': return 'succeeds with nothing (size 0)'
    case 'trap': return 'ends this process with its code (ProcessExit trap); never the host'
    case 'allow':
      if (fn.startsWith('clock_')) return p.clock.kind === 'real' ? 'real clocks (realtime, monotonic; cputime = time since start)'
        : `virtual clock from ${p.clock.startMs} ms, +${p.clock.stepNs} ns per read`
      if (fn === 'random_get') return p.random.kind === 'crypto' ? 'crypto RNG' : `seeded RNG (seed ${p.random.seed}, not for secrets)`
      if (fn === 'sched_yield') return 'yields to the scheduler (suspension hook), not to the OS'
      if (fn === 'poll_oneoff') return 'clock subscriptions only: a sleep suspends the guest, never the host; fd subscriptions ENOTCAPABLE'
      return 'allowed'
    case 'fds': {
      const on = groups(p, row.on)
      if (fn === 'poll_oneoff') {
        const stdio = row.on.includes('stdio') ? `; stdout/stderr writable while the sink has room, stdin ${p.stdin.kind === 'eof' ? 'readable at once (end of file)' : 'readable when its stream has data'}` : ''
        return `clock subscriptions (a sleep suspends the guest, never the host) and fd subscriptions on ${on}; other fds EBADF / ENOTCAPABLE${stdio}`
      }
      const extra: string[] = []
      if (fn === 'fd_write' && row.on.includes('stdio')) {
        extra.push(`1, 2 → the spawner's sinks tagged with the process id, ≤ ${KiB(p.stdout.chunkBytes)} a call, full sink → ${p.stdout.onFull}`)
      }
      if (fn === 'fd_read' && row.on.includes('stdio')) extra.push(p.stdin.kind === 'eof' ? '0 → end of file' : '0 → the granted stdin stream')
      if (row.on.includes('scratch') && fn.startsWith('path_')) {
        extra.push(`in memory, ≤ ${p.scratch!.maxBytes} bytes and ${p.scratch!.maxInodes} inodes, no escape by .., symlink or absolute path`)
      }
      return `on ${on}; other fds EBADF / ENOTCAPABLE${extra.length > 0 ? `; ${extra.join('; ')}` : ''}`
    }
  }
}

/** One described row per preview1 function, in the standard order. */
export function describe(policy: Policy): DescribedRow[] {
  return PREVIEW1_FUNCTIONS.map((fn) => ({ function: fn, area: areaOf(fn), rule: policy.rows[fn].do, effect: effect(fn, policy.rows[fn], policy) }))
}

/** describe() as a Markdown table, consecutive rows with the same effect merged. */
export function describeMarkdown(policy: Policy): string {
  const rows = describe(policy)
  const out = ['| preview1 functions | rule | effect |', '|---|---|---|']
  for (let i = 0; i < rows.length;) {
    let j = i + 1
    while (j < rows.length && rows[j]!.effect === rows[i]!.effect && rows[j]!.rule === rows[i]!.rule) j++
    const names = rows.slice(i, j).map((r) => `\`${r.function}\``).join(', ')
    out.push(`| ${names} | ${rows[i]!.rule} | ${rows[i]!.effect} |`)
    i = j
  }
  return out.join('\n') + '\n'
}
