// The web view of `ww host --ui` in real headless Chromium (Debian's, driven by
// playwright-core): a host row, a process row with its counters, topic traffic, and a
// screenshot that is a real PNG. Skipped, with a notice, where /usr/bin/chromium is absent.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { request } from 'node:http'
import { join } from 'node:path'
import { chromium, type BrowserContext } from 'playwright-core'
import { removeHome, startHost, writeGuests, ww, type HostChild } from './hosts.js'

const CHROMIUM = process.env.WW_CHROMIUM ?? '/usr/bin/chromium'
const present = existsSync(CHROMIUM)
if (!present) console.warn(`ui.test: skipped — no Chromium at ${CHROMIUM} (Debian: apt-get install chromium; or set WW_CHROMIUM)`)
const maybe = present ? describe : describe.skip

maybe('ww host --ui in headless Chromium', () => {
  let h: HostChild
  let browser: BrowserContext
  let profile: string
  let url: string
  let env: NodeJS.ProcessEnv

  beforeAll(async () => {
    h = startHost(['--ui'])
    const ready = await h.ready()
    url = String(ready.ui)
    env = { WW_HOME: h.home }
    await writeGuests(h.home)
    profile = mkdtempSync(join(tmpdir(), 'ww-chromium-'))
    // A fresh profile directory (Playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1100, height: 800 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    })
  })

  afterAll(async () => {
    await browser?.close()
    await h?.stop()
    if (h) removeHome(h)
    if (profile) rmSync(profile, { recursive: true, force: true })
  })

  test('shows the host, its processes with state and counters, and topic traffic, live', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    const spun = JSON.parse((await ww(['spawn', join(h.home, 'spin.wasm'), '--name', 'spinner', '--json'], env)).stdout) as { pid: number; host: string }
    const page = await browser.newPage()
    await page.goto(`${url}?topics=news`)
    const hostRow = page.locator(`tr.host-row[data-host="${spun.host}"]`)
    await hostRow.waitFor()
    const procRow = page.locator(`section.host-procs[data-host="${spun.host}"] tr.proc-row[data-pid="${spun.pid}"]`)
    await procRow.waitFor()
    const cells = await procRow.locator('td').allTextContents()
    expect(cells.slice(0, 4)).toEqual([String(spun.pid), '0', 'spinner', 'running'])
    // The live view updates: the spinner's fuel grows between snapshots.
    const first = Number(await procRow.getAttribute('data-fuel'))
    await page.waitForFunction(({ pid, before }) => {
      const tr = document.querySelector<HTMLElement>(`tr.proc-row[data-pid="${pid}"]`)
      return tr !== null && Number(tr.dataset.fuel) > before
    }, { pid: spun.pid, before: first })
    // Topic traffic: a message published through the endpoint shows up.
    expect((await ww(['pub', 'news', 'hello from the test'], env)).status).toBe(0)
    await page.locator('ul.msgs[data-topic="news"] li.topic-msg', { hasText: 'hello from the test' }).waitFor()
    await expect(page.locator('#status').textContent()).resolves.toBe('live')
    const png = await page.screenshot({ fullPage: true })
    // WW_UI_SCREENSHOT=path keeps the picture for a human to look at.
    if (process.env.WW_UI_SCREENSHOT) writeFileSync(process.env.WW_UI_SCREENSHOT, png)
    // A real PNG (signature, IHDR of the viewport's width) with more than a blank page in it.
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
    expect(png.readUInt32BE(16)).toBe(1100)
    expect(png.length).toBeGreaterThan(20_000)
    await ww(['kill', String(spun.pid)], env)
    await page.locator(`tr.proc-row[data-pid="${spun.pid}"]`).waitFor({ state: 'detached' })
    await page.close()
  })

  test('answers only requests addressed to it (no DNS rebinding)', async () => {
    const port = new URL(url).port
    const res = await new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/api/snapshot', headers: { host: `evil.example:${port}` } }, (r) => { r.resume(); resolve(r.statusCode ?? 0) }).on('error', reject).end()
    })
    expect(res).toBe(421)
    expect((await fetch(`${url}api/snapshot`)).status).toBe(200)
  })
})
