import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { diskBytes, formatBytes, installedPackages, isLibp2p } from '../src/footprint.js'

test('the libp2p stack is recognised by name, and nothing else is', () => {
  expect(['libp2p', '@libp2p/tcp', '@chainsafe/libp2p-noise', '@libp2p/interface'].filter(isLibp2p)).toHaveLength(4)
  expect(['libp2p-ish', '@ww/interface', '@chainsafe/as-sha256', 'capnp-ts', 'binaryen'].filter(isLibp2p)).toEqual([])
})

test("installed packages and their bytes come from npm's hidden lockfile and the disk", () => {
  const dir = mkdtempSync(join(tmpdir(), 'footprint-'))
  try {
    mkdirSync(join(dir, 'node_modules', '@ww', 'proc'), { recursive: true })
    writeFileSync(join(dir, 'node_modules', '.package-lock.json'), JSON.stringify({
      packages: { '': {}, 'node_modules/@ww/proc': {}, 'node_modules/binaryen': {}, 'node_modules/@ww/proc/node_modules/binaryen': {} },
    }))
    writeFileSync(join(dir, 'node_modules', '@ww', 'proc', 'index.js'), 'x'.repeat(1000))
    expect(installedPackages(dir)).toEqual(['@ww/proc', 'binaryen'])
    expect(diskBytes(join(dir, 'node_modules', '@ww'))).toBe(1000)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  expect([formatBytes(28_300), formatBytes(1_240_000), formatBytes(108_400_000)]).toEqual(['28 kB', '1.2 MB', '108 MB'])
})
