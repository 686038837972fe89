// The public surface of each published package, as api-extractor sees its built
// declarations, kept in `<package>/api/<name>.api.md`. A check compares the surface with
// the committed report; an update rewrites it. Reviewers read the report's diff.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Extractor, ExtractorConfig, ExtractorLogLevel, type ExtractorMessage } from '@microsoft/api-extractor'

export class ApiReportError extends Error {
  readonly code = 'ERR_API_REPORT'
  constructor(message: string, readonly packageDir: string) {
    super(message)
    this.name = 'ApiReportError'
  }
}

export interface ApiReportResult {
  packageName: string
  /** the committed report's path */
  reportPath: string
  /** true when the surface differs from the committed report (after an update: it was rewritten) */
  changed: boolean
  /** api-extractor's errors about the surface itself (e.g. an export it cannot follow) */
  errors: string[]
}

/**
 * Extracts the surface of the package in `packageDir` (its `exports['.'].types`, built).
 * `update: false` only compares; `update: true` rewrites the committed report.
 */
export function apiReport(packageDir: string, options: { update: boolean }): ApiReportResult {
  packageDir = resolve(packageDir)
  const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { name: string; exports?: Record<string, { types?: string } | string> }
  const root = pkg.exports?.['.']
  const types = typeof root === 'object' ? root.types : undefined
  if (!types) throw new ApiReportError(`${pkg.name} has no exports['.'].types to read its surface from`, packageDir)
  if (options.update) mkdirSync(join(packageDir, 'api'), { recursive: true })
  const temp = mkdtempSync(join(tmpdir(), 'ww-api-'))
  const errors: string[] = []
  try {
    const config = ExtractorConfig.prepare({
      configObjectFullPath: join(packageDir, 'api-extractor.json'), // virtual: the config lives here, not on disk
      packageJsonFullPath: join(packageDir, 'package.json'),
      configObject: {
        projectFolder: packageDir,
        mainEntryPointFilePath: join(packageDir, types),
        compiler: { tsconfigFilePath: join(packageDir, 'tsconfig.build.json') },
        apiReport: { enabled: true, reportFolder: join(packageDir, 'api'), reportTempFolder: temp },
        docModel: { enabled: false },
        dtsRollup: { enabled: false },
        tsdocMetadata: { enabled: false },
        messages: {
          compilerMessageReporting: { default: { logLevel: ExtractorLogLevel.Error } },
          extractorMessageReporting: {
            default: { logLevel: ExtractorLogLevel.None },
            // A type used by the surface but not exported is worth seeing in review.
            'ae-forgotten-export': { logLevel: ExtractorLogLevel.None, addToApiReportFile: true },
          },
          tsdocMessageReporting: { default: { logLevel: ExtractorLogLevel.None } },
        },
      },
    })
    const result = Extractor.invoke(config, {
      localBuild: options.update,
      messageCallback: (m: ExtractorMessage) => {
        if (m.logLevel === ExtractorLogLevel.Error) errors.push(m.formatMessageWithLocation(packageDir))
        m.handled = true // keep the console for the caller's summary
      },
    })
    return { packageName: pkg.name, reportPath: config.reportFilePath, changed: result.apiReportChanged, errors }
  } finally {
    rmSync(temp, { recursive: true, force: true })
  }
}

/** The directories of the repository's published packages (packages/*, apps/*, not private). */
export function publishedPackages(repoRoot: string): string[] {
  const dirs: string[] = []
  for (const group of ['packages', 'apps']) {
    for (const name of readdirSync(join(repoRoot, group))) {
      const file = join(repoRoot, group, name, 'package.json')
      if (!existsSync(file)) continue
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { private?: boolean }
      if (!pkg.private) dirs.push(join(repoRoot, group, name))
    }
  }
  return dirs.sort()
}
