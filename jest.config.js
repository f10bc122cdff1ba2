// Jest projects: unit (fast kernels and API), parity (committed PyTorch fixtures),
// e2e (real CLI processes), gpu (skipped with a printed reason when no GPU), pack (the npm
// tarball installed into a fresh project, with and without a prebuilt binary).
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json' }] };
const project = (name) => ({
  displayName: name,
  testEnvironment: 'node',
  transform,
  testMatch: [`<rootDir>/test/${name}/**/*.test.ts`],
});
module.exports = {
  projects: ['unit', 'parity', 'e2e', 'gpu', 'pack'].map(project),
  testTimeout: 120000,
};
