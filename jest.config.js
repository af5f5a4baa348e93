// Two projects: unit tests live next to their source and need no root;
// integration tests under test/ run real containers as root.
/** @type {import('jest').Config} */
const tsJest = [
  'ts-jest',
  { tsconfig: '<rootDir>/tsconfig.test.json', isolatedModules: true },
];
module.exports = {
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
      testTimeout: 60000,
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
