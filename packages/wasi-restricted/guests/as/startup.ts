// An AssemblyScript guest through @assemblyscript/wasi-shim: console, clocks, random and
// exit go to WASI preview1 under the default policy.
const t0 = Date.now()
const p0 = performance.now()
console.log('as hello')
console.log('as clock ' + (t0 > 1577836800000 ? 'ok' : 'bad') + ' ' + (performance.now() >= p0 ? 'ok' : 'bad'))
const r = Math.random()
console.log('as random ' + (r >= 0 && r < 1 ? 'ok' : 'bad'))
process.stderr.write('as stderr\n') // wasi-shim's console.error goes to stdout
process.exit(3)
