import { DEFAULT_POLICY, grant, validatePolicy, PolicyError, describe as describePolicy, describeMarkdown, PREVIEW1_FUNCTIONS, createWasi, MemorySink, MemoryStream } from './index.js'

const sinks = { stdout: new MemorySink(), stderr: new MemorySink() }

describe('policy as data', () => {
  test('the default survives JSON and validates to an equal policy', () => {
    const round = JSON.parse(JSON.stringify(DEFAULT_POLICY))
    expect(validatePolicy(round)).toEqual(DEFAULT_POLICY)
    expect(Object.isFrozen(DEFAULT_POLICY.rows.fd_write)).toBe(true)
  })

  test('the default rows follow shared/design/syscalls.md', () => {
    const r = DEFAULT_POLICY.rows
    expect(r.clock_time_get).toEqual({ do: 'allow' })
    expect(r.args_get).toEqual({ do: 'empty' })
    expect(r.fd_write).toEqual({ do: 'fds', on: ['stdio'] })
    expect(r.path_open).toEqual({ do: 'deny', errno: 'ENOTCAPABLE' })
    expect(r.sock_accept).toEqual({ do: 'deny', errno: 'ENOTCAPABLE' })
    expect(r.proc_exit).toEqual({ do: 'trap' })
    expect(r.proc_raise).toEqual({ do: 'deny', errno: 'ENOSYS' })
  })

  test('grant returns a new policy and leaves the old one alone', () => {
    const p = grant(DEFAULT_POLICY, { scratch: { maxBytes: 1000 } })
    expect(p).not.toBe(DEFAULT_POLICY)
    expect(p.rows.path_open).toEqual({ do: 'fds', on: ['scratch'] })
    expect(p.rows.fd_read).toEqual({ do: 'fds', on: ['stdio', 'scratch'] })
    expect(p.scratch).toEqual({ mountPath: '/scratch', maxBytes: 1000, maxInodes: 1024 })
    expect(DEFAULT_POLICY.rows.path_open.do).toBe('deny')
    expect(DEFAULT_POLICY.scratch).toBeNull()
  })

  test('grants compose', () => {
    const p = grant(grant(DEFAULT_POLICY, { scratch: true }), { sockets: { maxConnections: 2 }, clock: { startMs: 5, stepNs: 10 }, random: { seed: 9 }, stdin: 'stream' })
    expect(p.rows.fd_read).toEqual({ do: 'fds', on: ['stdio', 'scratch', 'socket'] })
    expect(p.rows.sock_recv).toEqual({ do: 'fds', on: ['socket'] })
    expect(p.rows.poll_oneoff).toEqual({ do: 'fds', on: ['stdio', 'scratch', 'socket'] })
    expect(p.clock).toEqual({ kind: 'virtual', startMs: 5, stepNs: 10 })
    expect(p.random).toEqual({ kind: 'seeded', seed: 9 })
    expect(p.maxFds).toBe(64)
    expect(grant(p, { sockets: { maxConnections: 256 }, maxFds: 300 })).toMatchObject({ sockets: { maxConnections: 256 }, maxFds: 300 })
    expect(() => grant(p, { maxFds: 2 })).toThrow(expect.objectContaining({ path: 'maxFds' }))
  })

  const bad: Array<[string, (p: any) => void, string]> = [
    ['an unknown function', (p) => { p.rows.fd_teleport = { do: 'allow' } }, 'rows.fd_teleport'],
    ['a missing function', (p) => { delete p.rows.random_get }, 'rows.random_get'],
    ['a row kind the function does not take', (p) => { p.rows.proc_exit = { do: 'allow' } }, 'rows.proc_exit.do'],
    ['an unknown errno', (p) => { p.rows.fd_write = { do: 'deny', errno: 'EWHATEVER' } }, 'rows.fd_write.errno'],
    ['a path row on stdio', (p) => { p.rows.path_open = { do: 'fds', on: ['stdio'] } }, 'rows.path_open.on'],
    ['a scratch row without the grant', (p) => { p.rows.path_open = { do: 'fds', on: ['scratch'] } }, 'rows.path_open.on'],
    ['a malformed scratch grant', (p) => { p.scratch = { mountPath: '/a/../b', maxBytes: 1, maxInodes: 1 } }, 'scratch.mountPath'],
    ['a negative quota', (p) => { p.scratch = { mountPath: '/s', maxBytes: -1, maxInodes: 1 } }, 'scratch.maxBytes'],
    ['an unknown field', (p) => { p.extra = 1 }, 'policy.extra'],
    ['a bad onFull', (p) => { p.stdout = { chunkBytes: 10, onFull: 'explode' } }, 'stdout.onFull'],
    ['a fractional seed', (p) => { p.random = { kind: 'seeded', seed: 1.5 } }, 'random.seed'],
  ]
  test.each(bad)('rejects %s with a PolicyError naming where', (_n, mutate, path) => {
    const p = JSON.parse(JSON.stringify(DEFAULT_POLICY))
    mutate(p)
    let err: unknown
    try { validatePolicy(p) } catch (e) { err = e }
    expect(err).toBeInstanceOf(PolicyError)
    expect((err as PolicyError).code).toBe('ERR_POLICY')
    expect((err as PolicyError).path).toBe(path)
  })

  test('createWasi refuses capabilities the policy does not grant, and grants without capabilities', () => {
    expect(() => createWasi(DEFAULT_POLICY, { processId: 'p', sinks, stdin: new MemoryStream() })).toThrow(PolicyError)
    expect(() => createWasi(grant(DEFAULT_POLICY, { stdin: 'stream' }), { processId: 'p', sinks })).toThrow(PolicyError)
    expect(() => createWasi({ ...DEFAULT_POLICY, maxFds: 1 }, { processId: 'p', sinks })).toThrow(PolicyError)
    const scratch3 = { ...grant(DEFAULT_POLICY, { scratch: true }), maxFds: 3 }
    expect(() => createWasi(scratch3, { processId: 'p', sinks })).toThrow(expect.objectContaining({ path: 'maxFds' }))
  })
})

describe('validation is paid once per policy', () => {
  test('a policy validatePolicy/grant returned, and DEFAULT_POLICY, come back as they are', () => {
    const p = grant(DEFAULT_POLICY, { sockets: true })
    expect(validatePolicy(p)).toBe(p)
    expect(validatePolicy(DEFAULT_POLICY)).toBe(DEFAULT_POLICY)
    const fromJson = validatePolicy(JSON.parse(JSON.stringify(p)))
    expect(validatePolicy(fromJson)).toBe(fromJson)
  })

  test('a validated policy cannot be changed afterwards (deep-frozen), so its check still holds', () => {
    const p = grant(DEFAULT_POLICY, { scratch: true })
    expect(() => { (p as { maxFds: number }).maxFds = 1 }).toThrow(/read only|not extensible/)
    expect(() => { (p.rows.path_open as { do: string }).do = 'allow' }).toThrow(/read only|not extensible/)
    expect(() => { (p.rows.fd_read as unknown as { on: string[] }).on.push('socket') }).toThrow(/read only|not extensible/)
  })

  test('an object we did not validate is checked every time, even when frozen', () => {
    const bad = Object.freeze({ ...DEFAULT_POLICY, maxFds: 1 })
    expect(() => validatePolicy(bad)).toThrow(PolicyError)
    expect(() => createWasi(bad, { processId: 'p', sinks })).toThrow(PolicyError)
    const copy = { ...DEFAULT_POLICY }
    expect(validatePolicy(copy)).not.toBe(copy) // a frozen copy; the caller's object stays theirs
  })
})

describe('describe', () => {
  test('one row per function, in order, saying what it does', () => {
    const rows = describePolicy(DEFAULT_POLICY)
    expect(rows.map((r) => r.function)).toEqual([...PREVIEW1_FUNCTIONS])
    expect(rows.find((r) => r.function === 'path_open')!.effect).toBe('denied: ENOTCAPABLE')
    expect(rows.find((r) => r.function === 'fd_read')!.effect).toContain('0 → end of file')
  })
  test('a grant changes the table', () => {
    const md = describeMarkdown(grant(DEFAULT_POLICY, { scratch: { maxBytes: 4096, maxInodes: 8 } }))
    expect(md).toContain('≤ 4096 bytes and 8 inodes')
    expect(md).not.toContain('`path_open`, `path_readlink` | deny')
  })
})
