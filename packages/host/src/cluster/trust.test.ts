import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import {
  PEER_RIGHTS, TrustConfigError, generateSwarmKey, loadIdentity, parseAllowEntry, parseAllowFile, parseSwarmKey, readSwarmKey, writeSwarmKey,
} from './trust.js'

const dir = mkdtempSync(join(tmpdir(), 'ww-trust-unit-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const ID = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'

describe('swarm key', () => {
  test('a generated key is the go-libp2p v1 format and parses back to what pnet takes', () => {
    const k = generateSwarmKey()
    expect(k).toMatch(/^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}\n$/)
    expect(new TextDecoder().decode(parseSwarmKey(k))).toBe(k.trimEnd())
    expect(generateSwarmKey()).not.toBe(k)
  })

  test('CRLF, no final newline and upper-case hex are accepted as go-libp2p accepts them', () => {
    const hex = 'AB'.repeat(32)
    expect(new TextDecoder().decode(parseSwarmKey(`/key/swarm/psk/1.0.0/\r\n/base16/\r\n${hex}`))).toBe(`/key/swarm/psk/1.0.0/\n/base16/\n${'ab'.repeat(32)}`)
  })

  test.each([
    ['empty', '', /does not start with \/key\/swarm\/psk\/1\.0\.0\//],
    ['another header', '/key/swarm/psk/2.0.0/\n/base16/\n' + '0'.repeat(64), /does not start/],
    ['base64 encoding', '/key/swarm/psk/1.0.0/\n/base64/\n' + 'A'.repeat(44), /encoding "\/base64\/" is not supported/],
    ['truncated', '/key/swarm/psk/1.0.0/\n/base16/\n' + 'a'.repeat(40), /40 hex digits, not 64 \(truncated\?\)/],
    ['not hex', '/key/swarm/psk/1.0.0/\n/base16/\n' + 'g'.repeat(64), /not hex digits/],
    ['trailing junk', '/key/swarm/psk/1.0.0/\n/base16/\n' + 'a'.repeat(64) + '\nmore', /unexpected text after the key/],
  ])('%s is refused with what is wrong', (_name, text, why) => {
    expect(() => parseSwarmKey(text)).toThrow(TrustConfigError)
    expect(() => parseSwarmKey(text)).toThrow(why)
  })

  test('writeSwarmKey makes a 0600 file, never overwrites; readSwarmKey refuses a key others can read', () => {
    const f = join(dir, 'swarm.key')
    writeSwarmKey(f)
    expect(statSync(f).mode & 0o777).toBe(0o600)
    expect(readSwarmKey(f)).toBeInstanceOf(Uint8Array)
    expect(() => writeSwarmKey(f)).toThrow(/EEXIST/)
    chmodSync(f, 0o644)
    expect(() => readSwarmKey(f)).toThrow(/readable by others \(mode 644\).*chmod 600/)
    expect(() => readSwarmKey(join(dir, 'missing.key'))).toThrow(/cannot read swarm key file .*ENOENT/)
  })
})

describe('identity', () => {
  test('created 0600 on first use, the same peer id on the next', async () => {
    const f = join(dir, 'home', 'identity.key')
    const a = await loadIdentity(f, { create: true })
    expect(statSync(f).mode & 0o777).toBe(0o600)
    expect(statSync(join(dir, 'home')).mode & 0o777).toBe(0o700)
    const b = await loadIdentity(f, { create: true })
    expect(peerIdFromPrivateKey(b).toString()).toBe(peerIdFromPrivateKey(a).toString())
    expect(readFileSync(f).byteLength).toBeGreaterThan(32)
  })

  test('readable by group is refused; junk is refused; missing without create is refused', async () => {
    const f = join(dir, 'id-group.key')
    await loadIdentity(f, { create: true })
    chmodSync(f, 0o640)
    await expect(loadIdentity(f)).rejects.toThrow(/readable by others \(mode 640\)/)
    const junk = join(dir, 'junk.key')
    writeFileSync(junk, 'not a key', { mode: 0o600 })
    await expect(loadIdentity(junk)).rejects.toThrow(/does not hold a libp2p private key/)
    await expect(loadIdentity(join(dir, 'none.key'))).rejects.toThrow(/ENOENT/)
  })
})

describe('allow entries', () => {
  test('a peer id alone has every right; =read none; a list those named', () => {
    expect([...parseAllowEntry(ID)[1]]).toEqual(PEER_RIGHTS)
    expect(parseAllowEntry(`${ID}=read`)[1].size).toBe(0)
    expect([...parseAllowEntry(`${ID}=exec,pubsub:publish`)[1]]).toEqual(['exec', 'pubsub:publish'])
  })

  test.each([
    ['not base58', 'hello-world', /'hello-world' is not a libp2p peer id/],
    ['truncated', ID.slice(0, 30), /is not a libp2p peer id/],
    ['an unknown right', `${ID}=exec,rootkit`, /unknown right 'rootkit'/],
  ])('%s is refused', (_n, text, why) => {
    expect(() => parseAllowEntry(text)).toThrow(why)
  })

  test('an allow file: comments, blank lines, rights after a space or =, line numbers in errors', () => {
    const got = parseAllowFile(`# cluster\n\n${ID}\n${ID} read  # observer\n${ID}=anchors:write\n`, 'allow.txt')
    expect(got.map(([, r]) => [...r])).toEqual([[...PEER_RIGHTS], [], ['anchors:write']])
    expect(() => parseAllowFile(`${ID}\nQmNope\n`, 'allow.txt')).toThrow(/allow\.txt line 2: 'QmNope' is not a libp2p peer id/)
  })
})
