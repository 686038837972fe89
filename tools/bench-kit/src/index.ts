/**
 * One benchmark contract for every package (see shared/design/benchmarks.md): a measured
 * case and its baseline run interleaved in the same process, medians over several runs,
 * a ratio baseline ÷ value, and one JSON file per benchmark under bench/results/.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

export interface BenchResult {
  name: string
  unit: string
  value: number
  baseline?: { name: string; value: number }
  ratio?: number
  params: Record<string, unknown>
  runs: number
  min: number
  max: number
  node: string
  date: string
}

/** One timed case: `fn(iterations)` runs the operation that many times. */
export interface BenchCase {
  name: string
  fn: (iterations: number) => void | Promise<void>
}

export interface MeasureOptions {
  /** Operations per run. */
  iterations: number
  /** Timed runs of each case (interleaved with the baseline's). Default 7. */
  runs?: number
  /** Untimed warm-up runs of each case. Default 2. */
  warmup?: number
}

/** Nanoseconds per operation for each run of `c`. */
async function timeRun(c: BenchCase, iterations: number): Promise<number> {
  const start = process.hrtime.bigint()
  await c.fn(iterations)
  return Number(process.hrtime.bigint() - start) / iterations
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/**
 * Measures `subject` against optional `baselines`, interleaving their runs so that
 * machine noise hits all of them alike. Returns ns/op samples per case name.
 */
export async function measure(cases: readonly BenchCase[], opts: MeasureOptions): Promise<Map<string, number[]>> {
  const runs = opts.runs ?? 7
  const warmup = opts.warmup ?? 2
  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]))
  for (let i = 0; i < warmup; i++) for (const c of cases) await timeRun(c, opts.iterations)
  for (let i = 0; i < runs; i++) {
    for (const c of cases) samples.get(c.name)!.push(await timeRun(c, opts.iterations))
  }
  return samples
}

/** Where results go: `<repo>/bench/results`, or `WW_BENCH_RESULTS` when set. */
export function resultsDir(): string {
  if (process.env.WW_BENCH_RESULTS) return process.env.WW_BENCH_RESULTS
  // Benchmarks run from their package directory (packages/<x> or apps/<x>).
  return join(process.cwd(), '..', '..', 'bench', 'results')
}

export interface ReportInput {
  name: string
  unit: string
  samples: readonly number[]
  baseline?: { name: string; samples: readonly number[] }
  /** For rates (ops/s) higher is better: the ratio becomes value ÷ baseline. */
  higherIsBetter?: boolean
  params?: Record<string, unknown>
}

/** Builds the result record, prints one line, writes `bench/results/<name>.json`. */
export function report(input: ReportInput): BenchResult {
  const value = median(input.samples)
  const result: BenchResult = {
    name: input.name,
    unit: input.unit,
    value: round(value),
    params: input.params ?? {},
    runs: input.samples.length,
    min: round(Math.min(...input.samples)),
    max: round(Math.max(...input.samples)),
    node: process.version,
    date: new Date().toISOString(),
  }
  if (input.baseline) {
    const b = median(input.baseline.samples)
    result.baseline = { name: input.baseline.name, value: round(b) }
    result.ratio = round(input.higherIsBetter ? value / b : b / value, 3)
  }
  const file = join(resultsDir(), `${input.name}.json`)
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n')
  const vs = result.baseline ? `  vs ${result.baseline.name} ${result.baseline.value} → ratio ${result.ratio}` : ''
  console.log(`${result.name}: ${result.value} ${result.unit} (median of ${result.runs}, min ${result.min}, max ${result.max})${vs}`)
  return result
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}
