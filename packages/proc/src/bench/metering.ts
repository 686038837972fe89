// proc.metering: a compute loop metered vs bare, same process, interleaved runs.
// Two configurations: metering alone (refill or kill) and metering + asyncify (what a
// guest that can yield runs). Out of fuel returns a refill of the scheduler's default
// slice, so the cost of the host call per slice is included.
// proc.metering-quick: the quick tier's build (no Binaryen: what a first start runs until
// Binaryen's build is in) against Binaryen's, on the same kernels.

import { median, report } from '@ww/bench-kit'
import { meterModule } from '../meter/pass.js'
import { meterQuick } from '../meter/quick.js'
import { KERNELS, wat } from './guests.js'

type Kernels = { fib(n: number): number; sieve(n: number): number }

async function instantiate(bytes: Uint8Array): Promise<Kernels> {
  const imports = {
    ww_meter: {
      out_of_fuel: () => 100_000,
      mem_cap_pages: new WebAssembly.Global({ value: 'i32', mutable: false }, 256),
      grow_denied: () => -1,
    },
  }
  const { instance } = await WebAssembly.instantiate(bytes as Uint8Array<ArrayBuffer>, imports)
  return instance.exports as unknown as Kernels
}

export async function benchMetering(runs = 9): Promise<void> {
  const raw = await wat(KERNELS)
  const bare = await instantiate(raw)
  const metered = await instantiate((await meterModule(raw)).bytes)
  const yielding = await instantiate((await meterModule(raw, { asyncify: { imports: [] } })).bytes)
  // The same metering without loop unrolling, for how much unrolling buys.
  const rolled = await instantiate((await meterModule(raw, { unroll: false })).bytes)
  const quick = await instantiate(meterQuick(raw).bytes)
  const work: Record<string, (k: Kernels) => number> = {
    sieve: (k) => { let s = 0; for (let i = 0; i < 40; i++) s += k.sieve(100_000); return s },
    fib: (k) => k.fib(27),
  }
  for (const [kernel, fn] of Object.entries(work)) {
    const expected = fn(bare)
    if (fn(metered) !== expected || fn(yielding) !== expected || fn(rolled) !== expected || fn(quick) !== expected) throw new Error(`${kernel}: metered result differs`)
    const t = { bare: [] as number[], metered: [] as number[], yielding: [] as number[], rolled: [] as number[], quick: [] as number[] }
    for (let r = 0; r < runs + 2; r++) {
      for (const [name, k] of [['bare', bare], ['metered', metered], ['yielding', yielding], ['rolled', rolled], ['quick', quick]] as const) {
        const t0 = performance.now()
        fn(k)
        if (r >= 2) t[name].push(performance.now() - t0)
      }
    }
    const params = { kernel, work: kernel === 'sieve' ? '40 × sieve(100000)' : 'fib(27)', sliceFuel: 100_000 }
    // Ratio here is metered ÷ bare (the slowdown; the target is ≤ 1.3).
    const slow = (xs: number[]): number => median(xs) / median(t.bare)
    report({ name: `proc.metering.${kernel}`, unit: 'ms', samples: t.metered, baseline: { name: 'bare (unmetered)', samples: t.bare }, params: { ...params, slowdown: round(slow(t.metered)) } })
    report({ name: `proc.metering-no-unroll.${kernel}`, unit: 'ms', samples: t.rolled, baseline: { name: 'bare (unmetered)', samples: t.bare }, params: { ...params, slowdown: round(slow(t.rolled)) } })
    report({
      name: `proc.metering-quick.${kernel}`, unit: 'ms', samples: t.quick, baseline: { name: 'the Binaryen build (proc.metering)', samples: t.metered },
      params: { ...params, slowdown: round(slow(t.quick)), vsBinaryen: round(median(t.quick) / median(t.metered)), tier: 'quick (meter/quick.ts): fuel in a local per function, checks at entry and loop heads' },
    })
    report({ name: `proc.metering-asyncify.${kernel}`, unit: 'ms', samples: t.yielding, baseline: { name: 'bare (unmetered)', samples: t.bare }, params: { ...params, slowdown: round(slow(t.yielding)) } })
  }
}

const round = (x: number): number => Math.round(x * 1000) / 1000
