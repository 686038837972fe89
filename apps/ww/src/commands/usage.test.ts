// Usage errors and help of the host and client commands, in process (no host needed:
// arguments are checked before anything connects).
import { PassThrough } from 'node:stream'
import { main } from '../cli.js'

async function ww(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const out = new PassThrough()
  const err = new PassThrough()
  let stdout = ''
  let stderr = ''
  out.on('data', (b: Buffer) => (stdout += b.toString()))
  err.on('data', (b: Buffer) => (stderr += b.toString()))
  // WW_HOME points nowhere: a command that got past its argument checks would fail with 1.
  const status = await main(args, { stdout: out, stderr: err, env: { WW_HOME: '/nonexistent/ww-home' } })
  return { status, stdout, stderr }
}

test.each<[string[], RegExp]>([
  [['cluster'], /missing the action/],
  [['cluster', 'rm'], /unknown action 'rm'/],
  [['anchors', 'put', 'x'], /needs PATH VALUE/],
  [['anchors', 'get'], /needs PATH/],
  [['anchors', 'frob'], /unknown action 'frob'/],
  [['pub', 'bad topic!', 'x'], /not a topic name/],
  [['pub', 'chat'], /missing the message/],
  [['pub', 'chat', 'a', 'b'], /quote a message with spaces/],
  [['sub', 'chat', '--count', '0'], /--count must be a whole number/],
  [['host', '--join', '/ip4/127.0.0.1/tcp/1'], /does not name the host/],
  [['host', '--listen', 'localhost:4001'], /is not a multiaddr/],
  [['host', '--rpc', 'nowhere'], /cannot read the endpoint 'nowhere'/],
  [['host', '--ttl', 'soon'], /cannot read the duration/],
  [['kill'], /missing the pid/],
  [['kill', 'x1'], /'x1' is not a process id/],
  [['spawn'], /missing the module/],
  [['ps', '--frob'], /Unknown option '--frob'/],
])('ww %j is a usage error (exit 2) that says what to do', async (args, message) => {
  const r = await ww(args)
  expect(r.stderr).toMatch(message)
  expect(r.status).toBe(2)
})

test.each(['host', 'ps', 'spawn', 'kill', 'cluster', 'anchors', 'pub', 'sub'])('ww %s --help: usage, every option, details', async (name) => {
  const r = await ww([name, '--help'])
  expect(r.status).toBe(0)
  expect(r.stdout).toMatch(new RegExp(`^Usage: ww ${name}`, 'm'))
  expect(r.stdout).toMatch(/^Options:\n(  .+\n)+/m)
  // Every option has its line of help.
  for (const line of r.stdout.split('\n').filter((l) => /^ {2}(-\w, )?--/.test(l) || /^ {6}--/.test(l))) expect(line).toMatch(/--\S+.*\S {2,}\S/)
})

test('ww --help lists the host and client commands', async () => {
  const r = await ww(['--help'])
  for (const name of ['host', 'ps', 'spawn', 'kill', 'cluster', 'anchors', 'pub', 'sub']) expect(r.stdout).toMatch(new RegExp(`^ {2}${name} +\\S`, 'm'))
})

test('--ui alone takes its default address; --ui ADDR takes ADDR', async () => {
  const r = await ww(['host', '--ui', '--rpc', 'nowhere'])
  // Parsing got past --ui (no "argument missing" error) to the --rpc check.
  expect(r.stderr).toMatch(/--rpc: cannot read the endpoint/)
})
