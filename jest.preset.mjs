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
  testTimeout: 30000,
  reporters: ['default', new URL('./scripts/jest-summary-reporter.mjs', import.meta.url).pathname],
}
