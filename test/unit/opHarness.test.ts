/**
 * Every case of the op harness (src/opHarness) on the CPU backend, in TEST mode (outputs against
 * float64 references) and GRAD mode (gradients against finite differences of the float64 forward),
 * on every SIMD path this CPU has and at 1 and 3 threads, all selected in process
 * (addon.setIsa, addon.setThreads). Three threads split ranges at offsets that are not multiples of
 * a vector. The harness itself is shown to fail on broken kernels (a backend with one bug each).
 */
import { CpuBackend } from '../../src/backend';
import type { BackendOps, OpName, Tensor } from '../../src/backend';
import { addon } from '../../src/native/addon';
import type { IsaName } from '../../src/native/addonApi';
import { CaseReport, compareBackends, compareCases, describeFailures, gradCase, opCases, perfCase, perfCases, testCase } from '../../src/opHarness';

const ORDER: IsaName[] = ['avx512', 'avx2', 'scalar'];
const supported = addon().info().supportedIsa;
const ISAS = ORDER.slice(ORDER.indexOf(supported));
const THREADS = [1, 3];
const initial = { isa: addon().info().isa, threads: addon().info().threads };

afterAll(() => {
  addon().setIsa({ isa: initial.isa });
  addon().setThreads({ threads: initial.threads });
});

const cases = opCases();

function expectError(fn: () => unknown, code: string, text: string): void {
  let caught: { code?: string; message?: string } | undefined;
  try {
    fn();
  } catch (e) {
    caught = e as typeof caught;
  }
  expect(caught?.code).toBe(code);
  expect(caught?.message).toContain(text);
}
const backend = new CpuBackend();

function expectPasses(r: CaseReport): void {
  expect(describeFailures(r)).toEqual([]);
  expect(r.ok).toBe(true);
}


// Every op of BackendOps; the compiler fails here when an op is added without being listed.
const OPS: Record<OpName, true> = {
  gemm: true, gemmBf16: true, bf16Pack: true, biasGrad: true, activationBackward: true, layerNormForward: true,
  layerNormBackward: true, attentionForward: true, attentionBackward: true, axpy: true, add: true, saAdapterSizes: true,
  mlpAdapterSizes: true, sideFusionSizes: true, saAdapterForward: true, saAdapterBackward: true, mlpAdapterForward: true,
  mlpAdapterBackward: true, sideFusionForward: true, sideFusionBackward: true, patchEmbed: true, embeddingForward: true,
  l2NormForward: true, l2NormBackward: true, retrievalLosses: true, adamw: true, argmaxRows: true, gatherRows: true,
  scatterRows: true, scatterAddRows: true, copy: true, fill: true,
};

describe('the op harness case table', () => {
  it('has a case for every op of BackendOps (the sizes ops through the fused cases that use them)', () => {
    const tested = new Set(cases.map((c) => c.op));
    const missing = (Object.keys(OPS) as OpName[]).filter((op) => !op.endsWith('Sizes') && !tested.has(op));
    expect(missing).toEqual([]);
    for (const op of ['saAdapterBackward', 'mlpAdapterBackward', 'sideFusionBackward']) expect(tested.has(op as OpName)).toBe(true);
  });

  it('has unique names, and every case checks something (a reference or gradients)', () => {
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    expect(cases.filter((c) => !c.reference && !c.grad).map((c) => c.name)).toEqual([]);
    // Backward ops are checked against finite differences.
    expect(cases.filter((c) => /Backward|biasGrad/.test(c.op) && !c.grad).map((c) => c.name)).toEqual([]);
  });
});

describe('in-process switches', () => {
  it('setIsa caps at the CPU, names a bad path and reports the path in use', () => {
    expect(ISAS[ISAS.length - 1]).toBe('scalar');
    expect(addon().setIsa({ isa: 'scalar' })).toBe('scalar');
    expect(addon().info().isa).toBe('scalar');
    expect(addon().setIsa({ isa: 'avx512' })).toBe(supported);
    expectError(() => addon().setIsa({ isa: 'sse' as IsaName }), 'POSAPL_TYPE', "for isa but received 'sse'");
  });

  it('setThreads replaces the pool, reports the count in use and validates its argument by name', () => {
    expect(addon().setThreads({ threads: 3 })).toBe(3);
    expect(addon().info().threads).toBe(3);
    expect(addon().setThreads({ threads: 1 })).toBe(1);
    expect(addon().info().threads).toBe(1);
    const set = addon().setThreads as (a: unknown, ...rest: unknown[]) => number;
    expectError(() => set({ threads: 0 }), 'POSAPL_SHAPE', 'Expected integer in [1, 1024] for threads');
    expectError(() => set({ threads: 1.5 }), 'POSAPL_SHAPE', 'for threads');
    expectError(() => set({ threads: '2' }), 'POSAPL_TYPE', 'for threads');
    expectError(() => set({}), 'POSAPL_ARGS', 'Missing argument threads');
    expectError(() => set({ threads: 2, count: 2 }), 'POSAPL_ARGS', 'Unknown argument count');
    expectError(() => set({ threads: 2 }, 1), 'POSAPL_ARGS', 'Expected 1 argument');
    expect(addon().info().threads).toBe(1);
  });
});

// Case by case (its inputs, reference and finite differences are made once), each on every ISA
// and thread count.
describe(`every op on every SIMD path (${ISAS.join(', ')}) at ${THREADS.join(' and ')} threads`, () => {
  for (const c of cases) {
    const skipped = [...new Set([c.op, ...(c.requires ?? [])])].filter((op) => !backend.supportsOp(op));
    // An op this machine lacks (bf16 needs AMX) is reported as skipped, never as passing.
    (skipped.length ? it.skip : it)(`${c.name}${skipped.length ? ` (skipped: ${skipped.join(', ')} not supported here)` : ''}`, () => {
      const failures: string[] = [];
      for (const isa of ISAS) {
        for (const threads of THREADS) {
          expect(addon().setIsa({ isa })).toBe(isa);
          expect(addon().setThreads({ threads })).toBe(threads);
          const label = `${isa}, ${threads} thread${threads > 1 ? 's' : ''}`;
          for (const r of [c.reference ? testCase(backend, c) : null, c.grad ? gradCase(backend, c) : null]) {
            if (r) failures.push(...describeFailures(r).map((f) => `${label}: ${f}`));
          }
        }
      }
      expect(failures).toEqual([]);
    });
  }
});

// A CPU backend with one bug, to show the harness fails on it.
function brokenBackend(op: keyof BackendOps, breakIt: (args: unknown[], backend: CpuBackend) => void): CpuBackend {
  const b = new CpuBackend();
  const original = (b as unknown as Record<string, (...a: unknown[]) => unknown>)[op].bind(b);
  (b as unknown as Record<string, unknown>)[op] = (...args: unknown[]) => {
    const result = original(...args);
    breakIt(args, b);
    return result;
  };
  return b;
}

describe('the harness fails on broken kernels', () => {
  beforeAll(() => {
    addon().setIsa({ isa: supported });
    addon().setThreads({ threads: 2 });
  });
  const find = (name: string) => {
    const c = cases.find((x) => x.name.startsWith(name));
    if (!c) throw new Error(`no case ${name}`);
    return c;
  };

  it('one element of a GEMM off by 1e-3 of the largest fails TEST', () => {
    const b = brokenBackend('gemm', ([a], be) => {
      const c = be.toHost((a as { c: Tensor }).c) as Float32Array;
      c[c.length >> 1] += 1e-3 * Math.max(...c.map(Math.abs));
    });
    const r = testCase(b, find('gemm 300x200x150'));
    expect(r.ok).toBe(false);
    expect(describeFailures(r).join()).toMatch(/: c /);
  });

  it('an output element left unwritten fails, whatever the values', () => {
    const b = brokenBackend('layerNormBackward', ([a], be) => {
      (be.toHost((a as { dx: Tensor }).dx) as Float32Array)[3] = NaN; // as if never written
    });
    const r = gradCase(b, find('layerNormBackward 5x37'));
    expect(r.ok).toBe(false);
    expect(r.problems.join()).toMatch(/dx: 1 of 185 elements not written/);
  });

  it('a gradient 0.1% too large fails GRAD', () => {
    const b = brokenBackend('attentionBackward', ([a], be) => {
      const d = be.toHost((a as { dqkv: Tensor }).dqkv) as Float32Array;
      for (let i = 0; i < d.length; i++) d[i] *= 1.001;
    });
    const r = gradCase(b, find('attentionBackward 1x77 8x64 causal'));
    expect(r.ok).toBe(false);
    expect(describeFailures(r).join()).toMatch(/dqkv/);
  });

  it('a wrong scalar result fails TEST, and backend comparison sees it', () => {
    const c = find('retrievalLosses 9x16');
    const b = brokenBackend('retrievalLosses', () => undefined);
    const bad = new CpuBackend();
    const run = bad.retrievalLosses.bind(bad);
    bad.retrievalLosses = (a) => {
      const r = run(a);
      return { ...r, triplet: r.triplet * 1.01 };
    };
    expect(testCase(b, c).ok).toBe(true);
    expect(testCase(bad, c).ok).toBe(false);
    const compared = compareBackends(c, backend, bad);
    expect(compared.ok).toBe(false);
    expect(compared.checks.filter((k) => !k.ok).map((k) => k.output)).toEqual(['triplet']);
    expectPasses(compareBackends(c, backend, new CpuBackend()));
  });

  it('compares two backends over a whole table, reporting unsupported cases as skipped', () => {
    const small = cases.filter((c) => /^(gemm 17x33x65|gemmBf16|layerNormBackward 5x37|argmaxRows 3x9)/.test(c.name));
    const reports = compareCases(small, backend, new CpuBackend());
    expect(reports.length).toBe(small.length);
    for (const r of reports) {
      if (r.op === 'gemmBf16' && !backend.supportsOp('gemmBf16')) expect(r.skipped).toMatch(/not supported/);
      else expectPasses(r);
    }
  });
});

describe('PERF mode', () => {
  it('times a case and counts its work', () => {
    const c = cases.find((x) => x.name === 'layerNormForward 50x768')!;
    const r = perfCase(backend, c, { repeats: 3 });
    expect(r.skipped).toBeUndefined();
    expect(r.ms).toBeGreaterThan(0);
    expect(r.gflops).toBeCloseTo(c.flops / r.ms / 1e6, 9);
    expect(c.bytes).toBe(4 * (50 * 768 * 2 + 768 * 2 + 50 * 2));
    expect(perfCases().every((x) => x.model)).toBe(true);
  });
});
