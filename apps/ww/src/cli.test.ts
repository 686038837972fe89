import { PassThrough } from 'node:stream'
import { main } from './cli.js'

function capture() {
  const out = new PassThrough()
  const err = new PassThrough()
  let stdout = ''
  let stderr = ''
  out.on('data', (b: Buffer) => (stdout += b.toString()))
  err.on('data', (b: Buffer) => (stderr += b.toString()))
  return { io: { stdout: out, stderr: err, env: {} }, text: () => ({ stdout, stderr }) }
}

test('--help lists the commands and exits 0', async () => {
  const c = capture()
  expect(await main(['--help'], c.io)).toBe(0)
  expect(c.text().stdout).toMatch(/Usage: ww <command> \[options\]/)
})

test('--version prints the package version', async () => {
  const c = capture()
  expect(await main(['--version'], c.io)).toBe(0)
  expect(c.text().stdout).toMatch(/^ww \d+\.\d+\.\d+ \(node v\d+/)
})

test('an unknown command exits 2 and says what to do', async () => {
  const c = capture()
  expect(await main(['frobnicate'], c.io)).toBe(2)
  expect(c.text().stderr).toMatch(/unknown command 'frobnicate'/)
  expect(c.text().stderr).toMatch(/ww --help/)
})

test('the overview lists every command with the summary its own help starts with', async () => {
  const { commands } = await import('./commands/index.js')
  const c = capture()
  expect(await main(['--help'], c.io)).toBe(0)
  for (const entry of commands) {
    const command = await entry.load()
    expect(command.name).toBe(entry.name)
    expect(command.summary).toBe(entry.summary)
    expect(c.text().stdout).toMatch(new RegExp(`^ {2}${entry.name} +${entry.summary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'))
  }
})
