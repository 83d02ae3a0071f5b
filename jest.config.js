// Two projects: `unit` (pure logic, no processes) and `integration` (the real platform, started once per run by the
// global setup). scripts/test.sh runs them in that order. Types are checked by `tsc --build` before jest runs, so
// ts-jest only transpiles (isolatedModules), which keeps a 2-core machine fast.
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json' }] };

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      displayName: 'unit',
      rootDir: __dirname,
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/{packages,services}/*/test/**/*.test.ts'],
      testPathIgnorePatterns: ['\\.int\\.test\\.ts$', '/node_modules/', '/dist/'],
    },
    {
      displayName: 'integration',
      rootDir: __dirname,
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/{packages,services}/*/test/**/*.int.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/dist/'],
      globalSetup: '<rootDir>/packages/devstack/dist/testing/global-setup.js',
      globalTeardown: '<rootDir>/packages/devstack/dist/testing/global-teardown.js',
    },
  ],
  // Jest reads testTimeout only here, at the top level (inside projects[] it is silently ignored). Integration tests
  // poll with `eventually` and never depend on an idle machine; this is only the backstop for a hung test.
  testTimeout: 120_000,
  reporters: ['default', '<rootDir>/scripts/jest-summary-reporter.js'],
};
