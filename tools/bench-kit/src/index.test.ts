import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { measure, median, report } from './index.js'

test('median of odd and even samples', () => {
  expect(median([3, 1, 2])).toBe(2)
  expect(median([4, 1, 3, 2])).toBe(2.5)
})

test('measure interleaves cases and report writes the contract JSON', async () => {
  const order: string[] = []
  const samples = await measure(
    [
      { name: 'a', fn: () => { order.push('a') } },
      { name: 'b', fn: () => { order.push('b') } },
    ],
    { iterations: 1, runs: 3, warmup: 1 },
  )
  expect(order).toEqual(['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b'])
  expect(samples.get('a')).toHaveLength(3)

  const dir = mkdtempSync(join(tmpdir(), 'bench-'))
  process.env.WW_BENCH_RESULTS = dir
  const r = report({ name: 'x.y', unit: 'ns/op', samples: [10, 30, 20], baseline: { name: 'base', samples: [40, 40, 40] } })
  delete process.env.WW_BENCH_RESULTS
  expect(r.value).toBe(20)
  expect(r.ratio).toBe(2)
  const onDisk = JSON.parse(readFileSync(join(dir, 'x.y.json'), 'utf8'))
  expect(onDisk).toMatchObject({ name: 'x.y', unit: 'ns/op', value: 20, baseline: { name: 'base', value: 40 }, ratio: 2, runs: 3, min: 10, max: 30 })
  expect(typeof onDisk.node).toBe('string')
})
