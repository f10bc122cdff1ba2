/**
 * The op harness: one case table over every backend op, and its TEST, GRAD, PERF and
 * backend-comparison modes (test/unit/opHarness.test.ts, bench/ops.js, the CUDA check).
 */
export * from './opCase';
export * from './cases';
export * from './run';
export * as references from './references';
