import { writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Command } from '../command.js'
import { UsageError } from '../command.js'
import { summaryOf } from './index.js'
import { wwHome } from '../host/state.js'
import { generateToken } from '../host/trust.js'

/**
 * `ww key`: the secrets of a cluster. `swarm` makes a swarm key (go-libp2p/IPFS format),
 * `token` an RPC endpoint token, `id` prints a host's peer id (making its identity first,
 * as `ww host` would on its first start) — for allow-lists written before hosts start.
 */
export const key: Command = {
  name: 'key',
  summary: summaryOf('key'),
  usage: 'ww key swarm|token [--out FILE] | ww key id [--identity FILE]',
  options: {
    out: { type: 'string' },
    identity: { type: 'string' },
  },
  optionHelp: {
    out: 'write the new key to FILE, mode 0600 (refused if FILE exists); default: print it on stdout',
    identity: 'the identity file of `ww key id` (default $WW_HOME/identity.key; created when missing, mode 0600)',
  },
  details: [
    'ww key swarm prints a new swarm key: three lines, /key/swarm/psk/1.0.0/, /base16/ and 64',
    'hex digits — the file go-libp2p and IPFS private networks use. Give the same file to every',
    'host of the cluster (ww host --swarm-key FILE, or WW_SWARM_KEY=FILE). Printed on stdout, the',
    'file\'s mode is your shell\'s: `(umask 077; ww key swarm > swarm.key)`, or use --out, which',
    'writes it 0600 (ww host refuses a key file readable by group or others).',
    '',
    'ww key token makes a token for a TCP RPC endpoint (ww host --rpc HOST:PORT --token FILE;',
    'clients: --token FILE or WW_TOKEN=FILE): 64 hex digits.',
    '',
    'ww key id prints the peer id of the host that runs from this $WW_HOME (or --identity), for',
    'other hosts\' --allow lists.',
    '',
    'Examples:',
    '  ww key swarm --out ~/.ww/swarm.key',
    '  (umask 077; ww key swarm > swarm.key)',
    '  ww key token --out ~/.ww/rpc.token',
    '  ww key id',
  ].join('\n'),
  async run(args, io) {
    const [what, ...extra] = args.positionals
    const usage = 'usage: ww key swarm [--out FILE], ww key token [--out FILE], ww key id [--identity FILE]'
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`, usage)
    if (what === 'swarm' || what === 'token') {
      if (args.values.identity !== undefined) throw new UsageError(`--identity is for ww key id`, usage)
      const text = what === 'swarm' ? (await import('@ww/host/trust')).generateSwarmKey() : generateToken()
      if (args.values.out === undefined) { io.stdout.write(text); return 0 }
      const file = resolve(String(args.values.out))
      try {
        writeFileSync(file, text, { mode: 0o600, flag: 'wx' })
      } catch (e) {
        const code = (e as { code?: string }).code
        if (code === 'EEXIST') throw new UsageError(`${file} exists: a key in use is never overwritten`, 'choose another file, or remove that one first')
        throw new UsageError(`cannot write ${file}: ${code ?? (e as Error).message}`)
      }
      io.stderr.write(`wrote a new ${what === 'swarm' ? 'swarm key' : 'token'} to ${file} (mode 0600)\n`)
      return 0
    }
    if (what === 'id') {
      if (args.values.out !== undefined) throw new UsageError('--out is for ww key swarm and ww key token', usage)
      const h = await import('@ww/host/trust')
      const file = args.values.identity !== undefined ? resolve(String(args.values.identity)) : join(wwHome(io.env), 'identity.key')
      let k
      try {
        k = await h.loadIdentity(file, { create: true })
      } catch (e) {
        if (e instanceof h.TrustConfigError) throw new UsageError(e.message)
        throw e
      }
      io.stdout.write(h.peerIdOf(k) + '\n')
      return 0
    }
    throw new UsageError(what === undefined ? 'missing what to make: swarm, token or id' : `unknown key '${what}'`, usage)
  },
}
