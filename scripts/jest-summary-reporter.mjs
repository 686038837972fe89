// A jest reporter that records each package's totals in .cache/test-results/, so the
// root test command can print one closing line for the whole repository.
import { mkdirSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const dir = fileURLToPath(new URL('../.cache/test-results/', import.meta.url))

export default class SummaryReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir
  }

  onRunComplete(_contexts, results) {
    mkdirSync(dir, { recursive: true })
    const name = `${basename(this.rootDir)}-node${process.versions.node.split('.')[0]}.json`
    writeFileSync(join(dir, name), JSON.stringify({
      package: this.rootDir,
      node: process.version,
      passed: results.numPassedTests,
      failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
      skipped: results.numPendingTests + results.numTodoTests,
      // Where the suite's minutes go, so the slowest files are seen before CI's limit is.
      seconds: Math.round((Date.now() - results.startTime) / 100) / 10,
      slowest: results.testResults
        .map((r) => ({ file: r.testFilePath.slice(this.rootDir.length + 1), seconds: Math.round((r.perfStats.end - r.perfStats.start) / 100) / 10 }))
        .sort((a, b) => b.seconds - a.seconds),
    }))
  }
}
