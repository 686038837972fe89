// Shared jest settings: TypeScript through @swc/jest, run as native ESM
// (`node --experimental-vm-modules`), tests beside the code as `*.test.ts`.
export default {
  testEnvironment: new URL('./jest.environment.mjs', import.meta.url).pathname,
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', {
      jsc: { target: 'es2022', parser: { syntax: 'typescript' }, keepClassNames: true },
      module: { type: 'es6' },
      sourceMaps: 'inline',
    }],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/src/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
  // A hang bound, not a speed one: a test that waits for a state (never for a time) fails
  // here only if that state never comes. Generous, because a busy machine (a CPU hog beside
  // the suite, several suites at once) makes compiling and asyncifying guests many times slower.
  testTimeout: 120_000,
  reporters: ['default', new URL('./scripts/jest-summary-reporter.mjs', import.meta.url).pathname],
}
