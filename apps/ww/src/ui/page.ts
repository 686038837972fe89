// The web view's single page: plain HTML, CSS and JS, no framework, charts drawn as SVG.
// It renders what the host streams on /events (Server-Sent Events) and tells the host
// which rows it views (POST /api/view) as it scrolls, opens, closes and selects.
// Everything from the host is put in with textContent, never as HTML: process names,
// capability names and messages come from guests.
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ww host</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  :root { --ok: #0a7d32; --warn: #925f00; --bad: #b3261e; --dim: #69707a; --line: #e5e7eb; --blue: #2857b8; }
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.2rem 1.5rem; color: #1d232b; background: #f7f8fa; }
  h1 { font-size: 1.3rem; margin: 0 0 .2rem; } h2 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; } h3 { font-size: .95rem; margin: .8rem 0 .3rem; }
  .dim { color: var(--dim); } code, .mono { font-family: ui-monospace, monospace; font-size: 12.5px; }
  table { border-collapse: collapse; background: #fff; box-shadow: 0 1px 2px #0002; }
  th, td { padding: .25rem .6rem; text-align: left; border-bottom: 1px solid var(--line); }
  th { background: #eef1f5; font-weight: 600; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
  #status { float: right; } .live { color: var(--ok); } .down { color: var(--bad); }
  .badge { display: inline-block; padding: 0 .45rem; border-radius: .6rem; font-size: 12px; background: #eef1f5; }
  .badge.control { background: #fde7e4; color: var(--bad); }
  .charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(15rem, 1fr)); gap: .6rem; }
  .chart { background: #fff; box-shadow: 0 1px 2px #0002; padding: .4rem .6rem; }
  .chart .title { font-size: 12px; color: var(--dim); display: flex; justify-content: space-between; }
  .chart .value { font-weight: 600; color: #1d232b; } .chart svg { width: 100%; height: 60px; display: block; }
  .chart polyline { fill: none; stroke-width: 1.5; vector-effect: non-scaling-stroke; }
  .legend { font-size: 11px; color: var(--dim); } .legend span { margin-right: .6rem; }
  .main { display: grid; grid-template-columns: minmax(30rem, 3fr) minmax(20rem, 2fr); gap: 1rem; align-items: start; }
  #tree-view { max-height: 28rem; min-height: 6rem; overflow-y: auto; position: relative; background: #fff; box-shadow: 0 1px 2px #0002; }
  #tree-rows { position: relative; }
  .tree-head, .tree-row { display: grid; grid-template-columns: minmax(8rem, 1fr) 3.5rem 7.5rem minmax(8rem, 13rem) 6.5rem; column-gap: .7rem; align-items: center; height: 24px; padding: 0 .5rem; white-space: nowrap; }
  .tree-head { font-weight: 600; background: #eef1f5; font-size: 13px; position: sticky; top: 0; z-index: 1; }
  .tree-row { position: absolute; left: 0; right: 0; border-bottom: 1px solid #f0f1f3; cursor: pointer; font-size: 13px; }
  .tree-row:hover { background: #f3f6fb; } .tree-row.selected { background: #e3ecfb; }
  .tree-row > span { overflow: hidden; text-overflow: ellipsis; }
  .tree-row.host-node { font-weight: 600; background: #fafbfc; }
  .toggle { display: inline-block; width: 1rem; color: var(--dim); } .age, .pid { text-align: right; font-variant-numeric: tabular-nums; }
  .state-running { color: var(--ok); } .state-waiting { color: var(--warn); } .state-starting { color: var(--blue); }
  .state-ended { color: var(--dim); } .kind-trapped, .kind-limit, .kind-hostLost { color: var(--bad); } .kind-killed { color: var(--warn); }
  #detail { background: #fff; box-shadow: 0 1px 2px #0002; padding: .6rem .9rem; min-height: 10rem; }
  #detail table { box-shadow: none; width: 100%; } #detail ul { margin: .2rem 0; padding-left: 1.2rem; }
  #detail .child { color: var(--blue); cursor: pointer; }
  button.kill { background: var(--bad); color: #fff; border: 0; padding: .3rem .8rem; border-radius: .3rem; cursor: pointer; }
  ul.msgs { list-style: none; padding: 0; margin: .3rem 0; background: #fff; box-shadow: 0 1px 2px #0002; max-width: 60rem; }
  ul.msgs li { padding: .25rem .7rem; border-bottom: 1px solid #eee; font-family: ui-monospace, monospace; font-size: 12.5px; }
  form { margin: .4rem 0; } select { font: inherit; }
  #topology { background: #fff; box-shadow: 0 1px 2px #0002; padding: .4rem .6rem; max-width: 60rem; }
  #topology svg { width: 100%; height: auto; display: block; }
  .topo-link line { stroke: #9aa3ad; stroke-width: 2; } .topo-link.down line { stroke: var(--bad); stroke-dasharray: 6 4; }
  .topo-link text { font-size: 11px; fill: #1d232b; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
  .topo-link.down text { fill: var(--bad); }
  .topo-host circle { fill: #e3ecfb; stroke: var(--blue); stroke-width: 2; } .topo-host.self circle { fill: var(--blue); }
  .topo-host.unreachable circle { fill: #fde7e4; stroke: var(--bad); stroke-dasharray: 4 3; }
  .topo-host text { font-size: 11px; font-family: ui-monospace, monospace; fill: #1d232b; }
</style>
</head>
<body>
<span id="status" class="down">connecting…</span>
<h1>ww host <code id="self"></code> <span id="mode" class="badge">read-only</span></h1>
<div class="dim" id="summary"></div>
<h2>Load <select id="scope"><option value="">whole cluster</option></select></h2>
<div class="charts" id="charts"></div>
<h2>Hosts</h2>
<table id="hosts"><thead><tr><th>host</th><th>addresses</th><th>processes</th><th>memory</th><th>CPU</th><th>msgs/s</th><th>RPC frames/s</th><th>version</th></tr></thead><tbody></tbody></table>
<h2>Topology <span class="dim" id="topo-summary"></span></h2>
<div id="topology"><p class="dim">Hosts and the links between them, with the round-trip times each end measured (libp2p ping).</p></div>
<div class="main">
  <div>
    <h2>Processes <span class="dim" id="tree-count"></span></h2>
    <div id="tree-view"><div class="tree-head"><span>name</span><span class="pid">pid</span><span>host</span><span>state</span><span class="age">age / ended</span></div><div id="tree-rows"></div></div>
  </div>
  <div>
    <h2>Detail</h2>
    <div id="detail"><p class="dim">Click a process to see its counters, what it was handed and its children.</p></div>
    <p id="kill-result" class="dim"></p>
  </div>
</div>
<h2>Topic traffic</h2>
<form id="watch"><input id="topic" placeholder="topic name" pattern="[A-Za-z0-9_.~-]{1,128}" required> <button>watch</button></form>
<div id="topics"><p class="dim">Watch a topic to see its messages here (or open this page with ?topics=a,b).</p></div>
<script>
const $ = (id) => document.getElementById(id)
const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = String(text); if (cls) e.className = cls; return e }
const row = (cells, cls) => { const tr = el('tr', undefined, cls); for (const c of cells) tr.append(c instanceof Node ? c : el('td', c)); return tr }
const num = (v) => el('td', v, 'n')
const short = (id) => id.length > 20 ? id.slice(0, 8) + '…' + id.slice(-6) : id
const dur = (ms) => ms < 60000 ? Math.max(0, ms / 1000).toFixed(0) + ' s' : ms < 3600000 ? (ms / 60000).toFixed(1) + ' min' : (ms / 3600000).toFixed(1) + ' h'
const bytes = (b) => b >= 1073741824 ? (b / 1073741824).toFixed(2) + ' GiB' : b >= 1048576 ? (b / 1048576).toFixed(1) + ' MiB' : (b / 1024).toFixed(0) + ' KiB'
const count = (n) => Number(n).toLocaleString('en')
const ROW = 24
const SVG = 'http://www.w3.org/2000/svg'
const params = new URLSearchParams(location.search)
const control = new URLSearchParams(location.hash.slice(1)).get('control')
let topics = (params.get('topics') || '').split(',').filter(Boolean)
let stream = null, points = [], hosts = [], self = '', canKill = false
let view = { offset: 0, limit: 40 }, collapsed = new Set(), selected = null, series = []

// ---- charts: one SVG polyline per series over the samples kept ----
const CHARTS = [
  { id: 'processes', title: 'processes', pick: (p) => p.processes, fmt: count },
  { id: 'memory', title: 'memory', pick: (p) => p.memoryBytes, fmt: bytes },
  { id: 'cpu', title: 'CPU', pick: (p) => p.cpuPercent, fmt: (v) => v.toFixed(0) + ' %' },
  { id: 'messages', title: 'messages/s', pick: (p) => p.messagesPerS, fmt: (v) => v.toFixed(1) },
  { id: 'frames', title: 'RPC frames/s', pick: (p) => p.framesPerS, fmt: (v) => v.toFixed(1) },
]
const COLORS = ['#2857b8', '#0a7d32', '#b3261e', '#925f00', '#7b3fb8', '#00838f']
function chart(id, title, lines, fmt) {
  let box = document.querySelector('.chart[data-chart="' + id + '"]')
  if (!box) {
    box = el('div', undefined, 'chart'); box.dataset.chart = id
    const t = el('div', undefined, 'title'); t.append(el('span', title), el('span', '', 'value'))
    const svg = document.createElementNS(SVG, 'svg'); svg.setAttribute('viewBox', '0 0 100 100'); svg.setAttribute('preserveAspectRatio', 'none')
    box.append(t, svg, el('div', '', 'legend')); $('charts').append(box)
  }
  const svg = box.querySelector('svg'); svg.replaceChildren()
  let max = 0
  for (const l of lines) for (const v of l.values) if (v > max) max = v
  const n = Math.max(2, ...lines.map((l) => l.values.length))
  lines.forEach((l, i) => {
    const pl = document.createElementNS(SVG, 'polyline')
    pl.setAttribute('stroke', COLORS[i % COLORS.length])
    pl.setAttribute('points', l.values.map((v, x) => (x * 100 / (n - 1)).toFixed(2) + ',' + (98 - (max > 0 ? v / max * 94 : 0)).toFixed(2)).join(' '))
    svg.append(pl)
  })
  box.dataset.points = String(lines.length ? lines[0].values.length : 0)
  const last = lines.length && lines[0].values.length ? lines[0].values[lines[0].values.length - 1] : 0
  box.querySelector('.value').textContent = lines.length > 1 ? 'max ' + fmt(max) : fmt(last)
  const legend = box.querySelector('.legend'); legend.replaceChildren()
  if (lines.length > 1) lines.forEach((l, i) => { const s = el('span', '● ' + l.name); s.style.color = COLORS[i % COLORS.length]; legend.append(s) })
}
function drawCharts() {
  const scope = $('scope').value
  const point = (s) => scope ? s.hosts[scope] : s.cluster
  const samples = points.filter((s) => point(s) !== undefined)
  for (const c of CHARTS) chart(c.id, c.title, [{ name: c.title, values: samples.map((s) => c.pick(point(s))) }], c.fmt)
  const names = [...new Set(points.flatMap((s) => Object.keys(s.topics)))]
  chart('pubsub', 'pubsub messages/s', names.map((n) => ({ name: n, values: points.map((s) => s.topics[n] ?? 0) })), (v) => v.toFixed(1))
}

// ---- hosts ----
function drawHosts(s) {
  const hb = $('hosts').tBodies[0]; hb.replaceChildren()
  const scope = $('scope'); const chosen = scope.value
  if (s.hosts) { scope.replaceChildren(el('option', 'whole cluster')); scope.options[0].value = '' }
  for (const h of hosts) {
    const p = s.sample && s.sample.hosts[h.id]
    const id = el('td', short(h.id), 'mono' + (h.id === self ? ' self' : '')); id.title = h.id
    const tr = row([id, el('td', h.addresses.join(' ') || '—', 'mono'), num(p ? count(p.processes) + (h.omitted ? ' (' + count(h.omitted) + ' not listed)' : '') : '—'),
      num(p ? bytes(p.memoryBytes) : '—'), num(p ? p.cpuPercent.toFixed(0) + ' %' : '—'), num(p ? p.messagesPerS : '—'), num(p ? p.framesPerS : '—'), h.version], 'host-row')
    tr.dataset.host = h.id; if (!h.reporting) tr.title = 'no status from this host yet'
    hb.append(tr)
    if (s.hosts) { const o = el('option', (h.id === self ? 'this host ' : 'host ') + short(h.id)); o.value = h.id; scope.append(o) }
  }
  scope.value = chosen
}

// ---- topology: hosts on an ellipse, a line per link labelled with its round trip ----
const ms = (v) => v === null || v === undefined ? '?' : v < 10 ? v.toFixed(2) : v.toFixed(0)
function svgEl(tag, attrs) { const e = document.createElementNS(SVG, tag); for (const k in attrs) e.setAttribute(k, attrs[k]); return e }
function drawTopology(t) {
  const box = $('topology'); box.replaceChildren()
  const W = 640, H = t.hosts.length > 8 ? 420 : 300, cx = W / 2, cy = H / 2, rx = W / 2 - 90, ry = H / 2 - 40
  const svg = svgEl('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img' })
  const at = t.hosts.map((h, i) => t.hosts.length === 1 ? [cx, cy]
    : [cx + rx * Math.cos(2 * Math.PI * i / t.hosts.length - Math.PI / 2), cy + ry * Math.sin(2 * Math.PI * i / t.hosts.length - Math.PI / 2)])
  t.links.forEach(([a, b, up, ab, ba], i) => {
    const g = svgEl('g', { class: 'topo-link' + (up ? '' : ' down') })
    Object.assign(g.dataset, { a: t.hosts[a].id, b: t.hosts[b].id, up: up ? 'true' : 'false', rttAb: ab ?? '', rttBa: ba ?? '' })
    const [x1, y1] = at[a], [x2, y2] = at[b]
    g.append(svgEl('line', { x1, y1, x2, y2 }))
    const shown = [ab, ba].filter((v) => v !== null)
    // Neighbours on the ellipse: mid-line; chords cross near the middle, so their labels sit off it, alternately.
    const n = t.hosts.length, ring = Math.abs(a - b) === 1 || Math.abs(a - b) === n - 1, f = ring ? 0.5 : i % 2 ? 0.3 : 0.7
    const label = svgEl('text', { x: x1 + (x2 - x1) * f, y: y1 + (y2 - y1) * f - 4, 'text-anchor': 'middle' })
    label.textContent = up ? (shown.length ? ms(Math.min(...shown)) + ' ms' : '…') : 'down'
    const why = t.errors && t.errors[i]
    const title = svgEl('title', {})
    title.textContent = short(t.hosts[a].id) + ' → ' + short(t.hosts[b].id) + ': ' + ms(ab) + ' ms; ' + short(t.hosts[b].id) + ' → ' + short(t.hosts[a].id) + ': ' + ms(ba) + ' ms' + (why ? ' — ' + why : '')
    g.append(label, title); svg.append(g)
  })
  t.hosts.forEach((h, i) => {
    const g = svgEl('g', { class: 'topo-host ' + h.reach }); Object.assign(g.dataset, { host: h.id, reach: h.reach })
    const [x, y] = at[i]
    const title = svgEl('title', {}); title.textContent = h.id + (h.reach === 'unreachable' ? ' (unreachable from this host)' : '')
    const name = svgEl('text', { x, y: y + 24, 'text-anchor': 'middle' }); name.textContent = (h.reach === 'self' ? 'this host ' : '') + short(h.id)
    g.append(svgEl('circle', { cx: x, cy: y, r: 11 }), name, title); svg.append(g)
  })
  box.append(svg)
  const down = t.links.filter((l) => !l[2]).length, lost = t.hosts.filter((h) => h.reach === 'unreachable').length
  $('topo-summary').textContent = '(' + t.hosts.length + ' host(s), ' + t.links.length + ' link(s)' + (down ? ', ' + down + ' down' : '') + (lost ? ', ' + lost + ' unreachable' : '') + ')'
}

// ---- the process tree: only the rows in view, positioned in a spacer as tall as the whole tree ----
function drawTree(t, now) {
  $('tree-rows').style.height = (t.total * ROW) + 'px'
  const box = $('tree-rows'); box.replaceChildren()
  t.rows.forEach((r, i) => {
    // Host ids come once per frame; rows name them by index.
    r.host = t.hosts[r.h]; r.key = r.host + '/' + r.pid
    if (r.ph !== undefined) r.parent = t.hosts[r.ph] + '/' + r.pp
    const d = el('div', undefined, 'tree-row' + (r.pid === 0 ? ' host-node' : '') + (r.key === selected ? ' selected' : ''))
    d.style.top = ((t.offset + i) * ROW) + 'px'
    Object.assign(d.dataset, { key: r.key, host: r.host, pid: r.pid, depth: r.depth, state: r.state, fuel: r.fuel, index: t.offset + i })
    if (r.parent) d.dataset.parent = r.parent
    if (r.kind) d.dataset.kind = r.kind
    const name = el('span'); name.style.paddingLeft = (r.depth * 1.1) + 'rem'
    const tog = el('span', r.children ? (r.collapsed ? '▸' : '▾') : '', 'toggle')
    if (r.children) tog.addEventListener('click', (e) => { e.stopPropagation(); if (collapsed.has(r.key)) collapsed.delete(r.key); else collapsed.add(r.key); sendView() })
    name.append(tog, el('span', r.pid === 0 ? 'host ' + short(r.host) + (r.host === self ? ' (this host)' : '') : (r.name || '—'), 'name'))
    if (r.collapsed) name.append(el('span', ' +' + r.children, 'dim'))
    const state = r.state === 'ended' ? el('span', r.status, 'state state-ended kind-' + r.kind) : el('span', r.state === 'host' ? '' : r.state, 'state state-' + r.state)
    state.title = state.textContent
    const age = r.pid === 0 ? '' : r.endedAtMs ? dur(now - r.endedAtMs) + ' ago' : dur(now - r.startedAtMs)
    d.append(name, el('span', r.pid === 0 ? '' : r.pid, 'pid'), el('span', short(r.host), 'mono'), state, el('span', age, 'age'))
    d.addEventListener('click', () => { if (r.pid !== 0) select(r.key) })
    box.append(d)
  })
}
function select(key) { selected = key; series = []; sendView() }

// ---- detail of the selected process ----
function spark(values) {
  const svg = document.createElementNS(SVG, 'svg'); svg.setAttribute('viewBox', '0 0 100 20'); svg.setAttribute('preserveAspectRatio', 'none')
  svg.style.width = '6rem'; svg.style.height = '1rem'
  // Scaled from its own least to its most: a counter in the billions still shows its slope.
  const lo = Math.min(...values), span = Math.max(...values) - lo || 1, n = Math.max(2, values.length)
  const pl = document.createElementNS(SVG, 'polyline'); pl.setAttribute('stroke', '#2857b8'); pl.setAttribute('fill', 'none')
  pl.setAttribute('points', values.map((v, x) => (x * 100 / (n - 1)).toFixed(1) + ',' + (19 - (v - lo) / span * 18).toFixed(1)).join(' '))
  svg.append(pl); return svg
}
function drawDetail(d, now) {
  const box = $('detail')
  if (!selected) return
  box.replaceChildren()
  if (!d) { box.append(el('p', 'process ' + selected + ' is gone (and no longer remembered)', 'dim')); return }
  series.push(d.counters); if (series.length > 120) series.shift()
  box.dataset.key = d.key
  box.append(el('h3', (d.name || 'process') + ' — ' + d.key))
  const state = d.status ? d.status : d.state + ', up ' + dur(now - d.startedAtMs)
  box.append(el('div', state, 'detail-state ' + (d.status ? 'state-ended' : 'state-' + d.state)))
  if (d.parent) { const p = el('div', 'parent: ' + d.parent, 'dim'); box.append(p) }
  const t = el('table', undefined, 'counters')
  const fmt = { memoryBytes: bytes, cpuMs: (v) => v.toFixed(1) + ' ms' }
  const label = { fuel: 'fuel', memoryBytes: 'memory', cpuMs: 'CPU time', mailbox: 'mailbox depth', messagesIn: 'messages in', messagesOut: 'messages out',
    framesIn: 'RPC frames in', framesOut: 'RPC frames out', sent: 'messages out', received: 'messages in' }
  for (const [k, v] of Object.entries(d.counters)) {
    const r = row([label[k] || k, num((fmt[k] || count)(v)), el('td')], 'counter'); r.dataset.counter = k
    if (!d.status) r.lastChild.append(spark(series.map((c) => c[k] || 0)))
    t.append(r)
  }
  box.append(t)
  box.append(el('h3', 'WASI calls denied'))
  const denied = Object.entries(d.denied)
  if (!denied.length) box.append(el('div', 'none', 'dim'))
  else { const dt = el('table'); for (const [call, n] of denied) { const r = row([call, num(n)], 'denial'); r.dataset.call = call; dt.append(r) } box.append(dt) }
  box.append(el('h3', 'Handed at spawn'))
  if (!d.handed) box.append(el('div', 'not known (spawned before this host kept it, or not a guest)', 'dim'))
  else {
    const ul = el('ul', undefined, 'caps')
    for (const c of d.handed.caps) ul.append(el('li', c, 'cap'))
    if (!d.handed.caps.length) ul.append(el('li', 'no capabilities in its BootContext', 'dim'))
    box.append(ul)
    if (d.handed.overrides.length) box.append(el('div', 'Host parts served by its spawner: ' + d.handed.overrides.join(', '), 'overrides'))
    box.append(el('div', 'Host rights: ' + (d.handed.rights.join(', ') || 'none'), 'rights dim'))
  }
  box.append(el('h3', 'Children (' + d.childrenTotal + ')'))
  const cl = el('ul', undefined, 'children')
  for (const c of d.children) { const li = el('li', (c.name || '—') + ' ' + c.key + ' · ' + c.state, 'child'); li.dataset.key = c.key; li.addEventListener('click', () => select(c.key)); cl.append(li) }
  if (d.childrenTotal > d.children.length) cl.append(el('li', '… and ' + count(d.childrenTotal - d.children.length) + ' more (open it in the tree)', 'dim'))
  box.append(cl)
  box.append(el('h3', 'Links and monitors'))
  const links = el('ul', undefined, 'links')
  // The host tree links each child to its parent one way: a parent that ends takes its children with it.
  if (d.parent && !d.parent.endsWith('/0')) links.append(el('li', 'linked to its parent ' + d.parent + ': it ends when its parent ends', 'link'))
  if (d.childrenTotal) links.append(el('li', 'linked to its ' + count(d.childrenTotal) + ' child(ren): they end when it ends', 'link'))
  if (!links.children.length) links.append(el('li', 'no links but to its host', 'dim'))
  box.append(links)
  const related = (title, list, cls) => {
    box.append(el('div', title, 'dim'))
    const ul = el('ul', undefined, cls + 's')
    for (const m of list) { const li = el('li', (m.name || '—') + ' ' + m.key + ' · ' + m.state, cls + ' child'); li.dataset.key = m.key; if (m.state !== 'host' && m.state !== 'unknown') li.addEventListener('click', () => select(m.key)); ul.append(li) }
    if (!list.length) ul.append(el('li', 'none', 'dim'))
    box.append(ul)
  }
  related('monitors (Process.monitor, pending)', d.monitors, 'monitor')
  related('monitored by', d.monitoredBy, 'monitored-by')
  if (canKill && !d.status && d.host === self) {
    const b = el('button', 'kill', 'kill')
    b.addEventListener('click', async () => {
      const r = await fetch('/api/kill', { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ' + control }, body: JSON.stringify({ host: d.host, pid: d.pid }) })
      const out = await r.json().catch(() => ({}))
      $('kill-result').textContent = r.ok ? 'killed' : (out.error || 'refused (' + r.status + ')')
    })
    box.append(el('p'), b)
  }
}

// ---- topics ----
function drawTopics(list) {
  if (!list.length) return
  const box = $('topics'); box.replaceChildren()
  for (const t of list) {
    box.append(el('h3', t.name + ' — ' + t.messages + ' message(s)'))
    const ul = el('ul', undefined, 'msgs'); ul.dataset.topic = t.name
    for (const m of t.recent.slice().reverse()) ul.append(el('li', new Date(m.at).toLocaleTimeString() + '  ' + short(m.from) + '  ' + m.text, 'topic-msg'))
    box.append(ul)
  }
}

function render(s) {
  self = s.self
  $('self').textContent = s.self
  if (s.hosts) hosts = s.hosts
  if (s.sample && (!points.length || points[points.length - 1].at !== s.sample.at)) { points.push(s.sample); if (points.length > 300) points.shift() }
  $('summary').textContent = s.cluster + ' cluster · ' + hosts.length + ' host(s) · ' + count(s.processes) + ' process(es), live and lately ended'
  $('tree-count').textContent = '(' + count(s.tree.total) + ' rows)'
  drawHosts(s); drawCharts(); drawTree(s.tree, s.at); drawDetail(s.detail, s.at)
  if (s.topology) drawTopology(s.topology)
  if (s.topics) drawTopics(s.topics)
}

function sendView() {
  if (!stream) return
  fetch('/api/view', { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ stream, offset: view.offset, limit: view.limit, collapsed: [...collapsed], selected }) }).catch(() => {})
}
let pending = false
$('tree-view').addEventListener('scroll', () => {
  if (pending) return
  pending = true
  requestAnimationFrame(() => {
    pending = false
    const v = $('tree-view')
    const offset = Math.max(0, Math.floor(v.scrollTop / ROW) - 10), limit = Math.ceil(v.clientHeight / ROW) + 20
    if (offset !== view.offset || limit !== view.limit) { view = { offset, limit }; sendView() }
  })
})
$('scope').addEventListener('change', drawCharts)
// The token is read once, at load: a URL edited to add or drop it loads the page again.
addEventListener('hashchange', () => location.reload())

let source
function connect() {
  source?.close()
  source = new EventSource('/events?topics=' + encodeURIComponent(topics.join(',')))
  source.addEventListener('hello', (e) => {
    const h = JSON.parse(e.data)
    stream = h.stream; points = h.history; canKill = h.control && !!control
    $('mode').textContent = h.control ? (control ? 'controls on' : 'controls on (no token in this URL)') : 'read-only'
    $('mode').className = 'badge' + (canKill ? ' control' : '')
    sendView()
  })
  source.onmessage = (e) => { $('status').textContent = 'live'; $('status').className = 'live'; render(JSON.parse(e.data)) }
  source.onerror = () => { $('status').textContent = 'disconnected (retrying)'; $('status').className = 'down' }
}
$('watch').addEventListener('submit', (e) => {
  e.preventDefault()
  const t = $('topic').value.trim()
  if (t && !topics.includes(t)) { topics.push(t); history.replaceState(null, '', '?topics=' + topics.join(',') + location.hash); connect() }
  $('topic').value = ''
})
connect()
</script>
</body>
</html>
`
