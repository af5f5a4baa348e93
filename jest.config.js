// Two projects: unit tests live next to their source and need no root;
// integration tests under test/ run real containers as root. The security
// suite (test/security) attacks the final runtime as root, one case a test;
// the docs project tests the built site.
/** @type {import('jest').Config} */
const tsJest = ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json' }];
module.exports = {
  // Containers start in about 0.2 s, but a loaded 2-core machine can make
  // one test's several runs take far longer.
  testTimeout: 60000,
  projects: [
    {
      displayName: 'unit',
      rootDir: __dirname,
      testMatch: [
        '<rootDir>/packages/*/src/**/*.test.ts',
        '<rootDir>/docs/tools/src/**/*.test.ts',
      ],
      transform: { '^.+\\.ts$': tsJest },
      testEnvironment: 'node',
    },
    {
      displayName: 'integration',
      rootDir: __dirname,
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      transform: { '^.+\\.ts$': tsJest },
      testEnvironment: 'node',
      slowTestThreshold: 20,
      globalTeardown: '<rootDir>/test/helpers/gc-teardown.js',
    },
    {
      displayName: 'security',
      rootDir: __dirname,
      testMatch: ['<rootDir>/test/security/**/*.test.ts'],
      transform: { '^.+\\.ts$': tsJest },
      testEnvironment: 'node',
      slowTestThreshold: 60,
      setupFilesAfterEnv: ['<rootDir>/test/security/setup.ts'],
      globalTeardown: '<rootDir>/test/helpers/gc-teardown.js',
    },
    {
      // The built site in headless Chromium: run after `npm run docs`.
      displayName: 'docs',
      rootDir: __dirname,
      testMatch: ['<rootDir>/docs/tools/src/**/*.e2e.ts'],
      transform: { '^.+\\.ts$': tsJest },
      testEnvironment: 'node',
      testTimeout: 120000,
    },
  ],
};
