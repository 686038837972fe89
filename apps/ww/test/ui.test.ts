// The web view of `ww host --ui` in real headless Chromium (Debian's, driven by
// playwright-core), on two `ww host` OS processes in one libp2p cluster: A (read-only
// view) and B (--ui-control). The process tree across hosts, ended processes with how
// they ended, live charts, the detail pane (counters, denials, handed caps, monitors), the
// topology with measured round trips, kills only with consent, and the request guards.
// Nothing here waits on a clock: each step waits for a state. Skipped, with a notice,
// where /usr/bin/chromium is absent.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { request } from 'node:http'
import { join } from 'node:path'
import { guestPath } from '@ww/guest'
import { process as capProcess } from '@ww/schema'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { connectHost } from '../src/client.js'
import { jsonOf, removeHome, startHost, writeGuests, ww, type HostChild } from './hosts.js'

const CHROMIUM = process.env.WW_CHROMIUM ?? '/usr/bin/chromium'
const present = existsSync(CHROMIUM)
if (!present) console.warn(`ui.test: skipped — no Chromium at ${CHROMIUM} (Debian: apt-get install chromium; or set WW_CHROMIUM)`)
const maybe = present ? describe : describe.skip

/** Per test: libp2p hosts and Chromium start slowly on a loaded 2-core machine; every step waits for a state. */
const T = 240_000

interface Spawned { pid: number; host: string }

maybe('ww host --ui in headless Chromium', () => {
  let a: HostChild
  let b: HostChild
  let browser: BrowserContext
  let profile: string
  let urlA: string
  let urlB: string
  let idA: string
  let idB: string
  const on = (h: HostChild): NodeJS.ProcessEnv => ({ WW_HOME: h.home })
  const spawn = async (h: HostChild, file: string, name: string, extra: string[] = []): Promise<Spawned> =>
    jsonOf<Spawned>(await ww(['spawn', file, '--name', name, '--json', ...extra], on(h)))
  /** Until `h`'s last word about host `id` is that it joined. */
  const rejoined = (h: HostChild, id: string): Promise<unknown> => h.next((e) => {
    const about = h.events.filter((x) => (x.event === 'join' || x.event === 'leave') && x.host === id)
    return e === about.at(-1) && e.event === 'join'
  }, `${id} in the view again`)
  const row = (page: Page, host: string, pid: number) => page.locator(`.tree-row[data-key="${host}/${pid}"]`)

  beforeAll(async () => {
    a = startHost(['--listen', '/ip4/127.0.0.1/tcp/0', '--ttl', '60s', '--ui'])
    const ra = await a.ready()
    idA = String(ra.id)
    urlA = String(ra.ui)
    b = startHost(['--join', (ra.addresses as string[])[0]!, '--ttl', '60s', '--ui', '--ui-control'])
    const rb = await b.ready()
    idB = String(rb.id)
    urlB = String(rb.ui)
    await a.next((e) => e.event === 'join' && e.host === idB, 'B joined A')
    await writeGuests(a.home)
    profile = mkdtempSync(join(tmpdir(), 'ww-chromium-'))
    // A fresh profile directory (Playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 1000 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    })
  }, T)

  afterAll(async () => {
    await browser?.close()
    for (const h of [b, a]) if (h) { await h.stop(); removeHome(h) }
    if (profile) rmSync(profile, { recursive: true, force: true })
  }, T)

  test('shows the host, a running process with its counters, charts gaining points and topic traffic, live; a killed process stays, ended', async () => {
    expect(urlA).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    const spun = await spawn(a, join(a.home, 'spin.wasm'), 'spinner')
    const page = await browser.newPage()
    await page.goto(`${urlA}?topics=news`)
    await page.locator(`tr.host-row[data-host="${idA}"]`).waitFor()
    await page.locator(`tr.host-row[data-host="${idB}"]`).waitFor()
    const r = row(page, idA, spun.pid)
    await r.waitFor()
    await expect(r.locator('.name').textContent()).resolves.toBe('spinner')
    await expect(r.getAttribute('data-state')).resolves.toBe('running')
    // Under this host's own node.
    await expect(r.getAttribute('data-parent')).resolves.toBe(`${idA}/0`)
    // Live: the spinner's fuel grows between ticks, and the charts gain points while it runs.
    const fuel = Number(await r.getAttribute('data-fuel'))
    const points = Number(await page.locator('.chart[data-chart="cpu"]').getAttribute('data-points'))
    await page.waitForFunction(({ key, before }) => Number(document.querySelector<HTMLElement>(`.tree-row[data-key="${key}"]`)?.dataset.fuel) > before,
      { key: `${idA}/${spun.pid}`, before: fuel })
    await page.waitForFunction((before) => Number(document.querySelector<HTMLElement>('.chart[data-chart="cpu"]')?.dataset.points) > before, points)
    expect((await ww(['pub', 'news', 'hello from the test'], on(a))).status).toBe(0)
    await page.locator('ul.msgs[data-topic="news"] li.topic-msg', { hasText: 'hello from the test' }).waitFor()
    await expect(page.locator('#status').textContent()).resolves.toBe('live')
    await expect(page.locator('#mode').textContent()).resolves.toBe('read-only')
    const png = await page.screenshot({ fullPage: true })
    // WW_UI_SCREENSHOT=path keeps the picture for a human to look at.
    if (process.env.WW_UI_SCREENSHOT) writeFileSync(process.env.WW_UI_SCREENSHOT, png)
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
    expect(png.readUInt32BE(16)).toBe(1280)
    expect(png.length).toBeGreaterThan(20_000)
    // Killed through the endpoint: the row stays, ended, saying how.
    expect((await ww(['kill', String(spun.pid)], on(a))).status).toBe(0)
    await page.locator(`.tree-row[data-key="${idA}/${spun.pid}"][data-state="ended"][data-kind="killed"]`).waitFor()
    await expect(r.locator('.state').textContent()).resolves.toBe('killed (requested)')
    await page.close()
  }, T)

  test('a trapped process shows its trap', async () => {
    const t = await spawn(a, join(a.home, 'trap.wasm'), 'trapper')
    const page = await browser.newPage()
    await page.goto(urlA)
    const r = page.locator(`.tree-row[data-key="${idA}/${t.pid}"][data-kind="trapped"]`)
    await r.waitFor()
    await expect(r.locator('.state').textContent()).resolves.toMatch(/^trapped \(.+\): .*unreachable/)
    await page.close()
  }, T)

  test('a child a guest on A spawned on B is drawn under its parent; the detail pane lists the caps it was handed', async () => {
    const delegate = guestPath('wasi-delegate', { asyncify: false })
    // Each host compiles the 75 KB guest once first (kept by its module cache): a compile
    // holds a host's event loop long enough on a loaded machine that libp2p drops the
    // connection (a leave, then a rejoin), which would make the spawn on B unreachable.
    for (const h of [a, b]) expect((await ww(['spawn', delegate, '--name', 'warm-up', '--wait'], on(h))).status).toBe(0)
    await rejoined(a, idB)
    await rejoined(b, idA)
    const parent = jsonOf<Spawned & { status: { kind: string; code: number } }>(await ww(
      ['spawn', delegate, '--args', `on:${idB}`, '--name', 'far-parent', '--wait', '--json'], on(a)))
    const said = a.events.filter((e) => e.event === 'output').map((e) => String(e.text))
    expect({ status: parent.status, said }).toEqual({ status: { kind: 'exited', code: 0 }, said: expect.arrayContaining(['parent: passing its own echo']) })
    expect(a.events.some((e) => e.event === 'output' && e.text === 'parent: served 1 call(s); the child exited 0')).toBe(true)
    const page = await browser.newPage()
    await page.goto(urlA)
    const parentRow = row(page, idA, parent.pid)
    await parentRow.waitFor()
    // B reports its processes (and ended ones) on the status topic: the child appears under its parent.
    const child = page.locator(`.tree-row[data-host="${idB}"][data-parent="${idA}/${parent.pid}"]`)
    await child.waitFor()
    const [pi, pd, ci, cd] = await Promise.all([
      parentRow.getAttribute('data-index'), parentRow.getAttribute('data-depth'), child.getAttribute('data-index'), child.getAttribute('data-depth'),
    ])
    expect(Number(ci)).toBe(Number(pi) + 1)
    expect(Number(cd)).toBe(Number(pd) + 1)
    await expect(child.locator('.name').textContent()).resolves.toBe('delegate-child')
    await expect(child.locator('.state').textContent()).resolves.toBe('exited 0')
    await child.click()
    await page.locator('#detail li.cap', { hasText: 'echo' }).waitFor()
    expect(await page.locator('#detail li.cap').allTextContents()).toEqual(['echo'])
    // The parent's detail lists its child on B.
    await parentRow.click()
    await page.locator(`#detail li.child[data-key^="${idB}/"]`).waitFor()
    await page.close()
  }, 2 * T)

  test('the detail pane shows a process\'s counters and the WASI calls it was denied, by function and errno', async () => {
    const d = await spawn(a, join(a.home, 'deny.wasm'), 'denied')
    const page = await browser.newPage()
    await page.goto(urlA)
    await row(page, idA, d.pid).click()
    await page.locator('#detail tr.denial[data-call="proc_raise ENOSYS"]').waitFor()
    await expect(page.locator('#detail tr.denial[data-call="proc_raise ENOSYS"] td.n').textContent()).resolves.toBe('1')
    await page.locator('#detail tr.counter[data-counter="fuel"]').waitFor()
    await expect(page.locator('#detail li.cap').count()).resolves.toBe(0)
    await expect(page.locator('#detail .rights').textContent()).resolves.toMatch(/executor/)
    await ww(['kill', String(d.pid)], on(a))
    await page.close()
  }, T)

  test('the topology view draws both hosts and the link between them, labelled with its round trip', async () => {
    for (const [url, self, other] of [[urlA, idA, idB], [urlB.replace(/#.*$/, ''), idB, idA]] as const) {
      const page = await browser.newPage()
      await page.goto(url)
      await page.locator(`#topology g.topo-host.self[data-host="${self}"]`).waitFor()
      await page.locator(`#topology g.topo-host[data-host="${other}"][data-reach="up"]`).waitFor()
      // Measured by both ends (A's RTT in A's status, B's in B's): each view shows both.
      const link = page.locator('#topology g.topo-link[data-up="true"]:not([data-rtt-ab=""]):not([data-rtt-ba=""])')
      await link.waitFor()
      const [ab, ba, label] = await Promise.all([link.getAttribute('data-rtt-ab'), link.getAttribute('data-rtt-ba'), link.locator('text').textContent()])
      // Both measurements are numbers on the page; their size is the machine's, not asserted.
      expect([ab, ba]).toEqual([expect.stringMatching(/^\d+(\.\d+)?$/), expect.stringMatching(/^\d+(\.\d+)?$/)])
      expect(label).toMatch(/^\d+(\.\d+)? ms$/)
      await expect(page.locator('#topology g.topo-host').count()).resolves.toBe(2)
      await expect(page.locator('#topo-summary').textContent()).resolves.toBe('(2 host(s), 1 link(s))')
      await page.close()
    }
  }, T)

  test('the detail pane lists what monitors a process: a monitor A\'s operator holds on a process on B, seen in B\'s view', async () => {
    await using s = await connectHost(undefined, on(a))
    const proc = s.host.executor().getExecutor().exec((p) => {
      p.initBytecode().setInline(readFileSync(join(a.home, 'spin.wasm')))
      const o = p.initOptions()
      o.setName('monitored')
      o.setWhere(idB)
    }).getProcess()
    const pid = Number((await proc.pid()).getSelf().getPid())
    await proc.monitor((q) => q.setHandler(new capProcess.ExitHandler.Server({ exited() {} })))
    const page = await browser.newPage()
    await page.goto(urlB.replace(/#.*$/, ''))
    await row(page, idB, pid).click()
    const by = page.locator(`#detail li.monitored-by[data-key="${idA}/0"]`)
    await by.waitFor()
    await expect(by.textContent()).resolves.toBe(`operator ${idA}/0 · host`)
    await expect(page.locator('#detail ul.monitors li').textContent()).resolves.toBe('none')
    await proc.kill()
    await page.close()
  }, T)

  test('without --ui-control the page changes nothing: no kill button, and a kill request is refused', async () => {
    const spun = await spawn(a, join(a.home, 'spin.wasm'), 'kept')
    const page = await browser.newPage()
    await page.goto(urlA)
    await row(page, idA, spun.pid).click()
    await page.locator('#detail tr.counter').first().waitFor()
    await expect(page.locator('#detail button.kill').count()).resolves.toBe(0)
    const answer = await page.evaluate(async (pid) => {
      const r = await fetch('/api/kill', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ host: document.getElementById('self')!.textContent, pid }) })
      return { status: r.status, body: await r.json() as { code: string } }
    }, spun.pid)
    expect(answer).toEqual({ status: 403, body: expect.objectContaining({ code: 'ERR_UI_READ_ONLY' }) })
    const ps = jsonOf<Array<{ pid: number; state: string }>>(await ww(['ps', '--json'], on(a)))
    expect(ps.find((p) => p.pid === spun.pid)?.state).toBe('running')
    await ww(['kill', String(spun.pid)], on(a))
    await page.close()
  }, T)

  test('with --ui-control the page kills, given the token in its URL; without the token the request is refused', async () => {
    expect(urlB).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#control=[0-9a-f]{48}$/)
    const spun = await spawn(b, join(a.home, 'spin.wasm'), 'victim')
    let page = await browser.newPage()
    await page.goto(urlB.replace(/#.*$/, ''))
    await row(page, idB, spun.pid).click()
    await page.locator('#detail tr.counter').first().waitFor()
    await expect(page.locator('#detail button.kill').count()).resolves.toBe(0)
    const status = await page.evaluate(async (pid) => (await fetch('/api/kill', {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer 00' }, body: JSON.stringify({ host: document.getElementById('self')!.textContent, pid }),
    })).status, spun.pid)
    expect(status).toBe(401)
    await page.close()
    page = await browser.newPage()
    await page.goto(urlB)
    await page.locator('#mode', { hasText: /^controls on$/ }).waitFor()
    await row(page, idB, spun.pid).click()
    await page.locator('#detail button.kill').click()
    await page.locator(`.tree-row[data-key="${idB}/${spun.pid}"][data-kind="killed"]`).waitFor()
    await expect(row(page, idB, spun.pid).locator('.state').textContent()).resolves.toBe('killed (requested by the web view)')
    await page.close()
  }, T)

  test('answers only requests addressed to it from its own page (no DNS rebinding, no other origin)', async () => {
    const port = new URL(urlB).port
    const ask = (headers: Record<string, string>, method = 'GET', path = '/api/snapshot'): Promise<number> => new Promise((resolve, reject) => {
      request({ host: '127.0.0.1', port, path, method, headers }, (r) => { r.resume(); resolve(r.statusCode ?? 0) }).on('error', reject).end(method === 'POST' ? '{}' : undefined)
    })
    expect(await ask({ host: `evil.example:${port}` })).toBe(421)
    expect(await ask({ host: `127.0.0.1:${port}`, origin: 'http://evil.example' })).toBe(403)
    expect(await ask({ host: `127.0.0.1:${port}`, 'sec-fetch-site': 'cross-site' })).toBe(403)
    // A kill from another origin is refused before the token is even looked at.
    const token = new URL(urlB).hash.slice('#control='.length)
    expect(await ask({ host: `127.0.0.1:${port}`, origin: 'http://evil.example', 'content-type': 'application/json', authorization: `Bearer ${token}` }, 'POST', '/api/kill')).toBe(403)
    expect((await fetch(`${urlB.replace(/#.*$/, '')}api/snapshot`)).status).toBe(200)
  })
})
