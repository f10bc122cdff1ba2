// Jest projects: unit (fast kernels and API), parity (committed PyTorch fixtures),
// e2e (real CLI processes), gpu (skipped with a printed reason when no GPU).
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json' }] };
const project = (name) => ({
  displayName: name,
  testEnvironment: 'node',
  transform,
  testMatch: [`<rootDir>/test/${name}/**/*.test.ts`],
});
module.exports = {
  projects: ['unit', 'parity', 'e2e', 'gpu'].map(project),
  testTimeout: 120000,
};
