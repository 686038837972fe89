// The web view's single page: plain HTML and JS, no framework. It renders each snapshot
// the host streams on /events (Server-Sent Events). Everything from the host is put in
// with textContent, never as HTML: process names and messages come from guests.
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ww host</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d232b; background: #f7f8fa; }
  h1 { font-size: 1.3rem; margin: 0 0 .2rem; } h2 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
  .dim { color: #69707a; } code, td.mono { font-family: ui-monospace, monospace; font-size: 12.5px; }
  table { border-collapse: collapse; background: #fff; box-shadow: 0 1px 2px #0002; min-width: 40rem; }
  th, td { padding: .3rem .7rem; text-align: left; border-bottom: 1px solid #e5e7eb; }
  th { background: #eef1f5; font-weight: 600; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
  .state-running { color: #0a7d32; } .state-waiting { color: #925f00; } .state-starting { color: #2857b8; }
  .self { font-weight: 600; } #status { float: right; } .live { color: #0a7d32; } .down { color: #b3261e; }
  ul.msgs { list-style: none; padding: 0; margin: .3rem 0; background: #fff; box-shadow: 0 1px 2px #0002; max-width: 60rem; }
  ul.msgs li { padding: .25rem .7rem; border-bottom: 1px solid #eee; font-family: ui-monospace, monospace; font-size: 12.5px; }
  form { margin: .4rem 0; }
</style>
</head>
<body>
<span id="status" class="down">connecting…</span>
<h1>ww host <code id="self"></code></h1>
<div class="dim" id="summary"></div>
<h2>Hosts</h2>
<table id="hosts"><thead><tr><th>host</th><th>addresses</th><th>processes</th><th>uptime</th><th>version</th></tr></thead><tbody></tbody></table>
<div id="procs"></div>
<h2>Topic traffic</h2>
<form id="watch"><input id="topic" placeholder="topic name" pattern="[A-Za-z0-9_.~-]{1,128}" required> <button>watch</button></form>
<div id="topics"><p class="dim">Watch a topic to see its messages here (or open this page with ?topics=a,b).</p></div>
<script>
const $ = (id) => document.getElementById(id)
const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = String(text); if (cls) e.className = cls; return e }
const row = (cells, cls) => { const tr = el('tr', undefined, cls); for (const c of cells) tr.append(c instanceof Node ? c : el('td', c)); return tr }
const num = (v) => el('td', v, 'n')
const short = (id) => id.length > 20 ? id.slice(0, 8) + '…' + id.slice(-6) : id
const dur = (ms) => ms < 60000 ? (ms / 1000).toFixed(0) + ' s' : (ms / 60000).toFixed(1) + ' min'
const bytes = (b) => b >= 1048576 ? (b / 1048576).toFixed(1) + ' MiB' : (b / 1024).toFixed(0) + ' KiB'
const params = new URLSearchParams(location.search)
let topics = (params.get('topics') || '').split(',').filter(Boolean)

function render(s) {
  $('self').textContent = s.self
  $('summary').textContent = s.cluster + ' cluster · ' + s.hosts.length + ' host(s) · pubsub: ' + s.pubsub.published + ' published, ' + s.pubsub.received + ' received from other hosts'
  const hb = $('hosts').tBodies[0]; hb.replaceChildren()
  const procs = $('procs'); procs.replaceChildren()
  for (const h of s.hosts) {
    const id = el('td', short(h.id), 'mono' + (h.id === s.self ? ' self' : '')); id.title = h.id
    const tr = row([id, el('td', h.addresses.join(' ') || '—', 'mono'), num(h.processes ? h.processes.length : h.load), dur(h.uptimeMs), h.version], 'host-row')
    tr.dataset.host = h.id; hb.append(tr)
    const sec = el('section'); sec.className = 'host-procs'; sec.dataset.host = h.id
    sec.append(el('h2', 'Processes on ' + short(h.id) + (h.id === s.self ? ' (this host)' : '')))
    if (!h.processes) { sec.append(el('p', 'no process table from this host yet', 'dim')); procs.append(sec); continue }
    // A host with --workers says which worker thread runs each process.
    const workers = h.processes.some((p) => p.worker !== undefined)
    const t = el('table'); t.append(row(['pid', 'parent', 'name', 'state', ...(workers ? ['worker'] : []), 'cpu ms', 'fuel', 'memory', 'msgs in', 'msgs out', 'mailbox'].map((x) => el('th', x))))
    for (const p of h.processes) {
      const parent = p.parentHost ? short(p.parentHost) + '/' + p.parent : String(p.parent)
      const r = row([num(p.pid), num(parent), p.name || '—', el('td', p.state, 'state-' + p.state), ...(workers ? [num(p.worker ?? '—')] : []), num(p.cpuMs.toFixed(1)), num(p.fuel.toLocaleString('en')), num(bytes(p.memoryBytes)), num(p.messagesIn), num(p.messagesOut), num(p.mailbox)], 'proc-row')
      r.dataset.pid = p.pid; r.dataset.fuel = p.fuel; if (p.worker !== undefined) r.dataset.worker = p.worker; t.append(r)
    }
    if (h.processes.length === 0) t.append(row([el('td', 'no processes', 'dim')]))
    sec.append(t); procs.append(sec)
  }
  if (s.topics.length) {
    const box = $('topics'); box.replaceChildren()
    for (const t of s.topics) {
      box.append(el('h3', t.name + ' — ' + t.messages + ' message(s)'))
      const ul = el('ul', undefined, 'msgs'); ul.dataset.topic = t.name
      for (const m of t.recent.slice().reverse()) ul.append(el('li', new Date(m.at).toLocaleTimeString() + '  ' + short(m.from) + '  ' + m.text, 'topic-msg'))
      box.append(ul)
    }
  }
}

let source
function connect() {
  source?.close()
  source = new EventSource('/events?topics=' + encodeURIComponent(topics.join(',')))
  source.onmessage = (e) => { $('status').textContent = 'live'; $('status').className = 'live'; render(JSON.parse(e.data)) }
  source.onerror = () => { $('status').textContent = 'disconnected (retrying)'; $('status').className = 'down' }
}
$('watch').addEventListener('submit', (e) => {
  e.preventDefault()
  const t = $('topic').value.trim()
  if (t && !topics.includes(t)) { topics.push(t); history.replaceState(null, '', '?topics=' + topics.join(',')); connect() }
  $('topic').value = ''
})
connect()
</script>
</body>
</html>
`
