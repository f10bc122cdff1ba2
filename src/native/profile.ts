/**
 * Per-op profiling: while enabled, every native call is timed (wall clock, hrtime) and the time is
 * summed per native function. The addon's functions are wrapped only while a profile runs, so
 * normal calls pay nothing.
 */

/** Time spent in one native function. */
export interface OpTime {
  op: string;
  calls: number;
  ms: number;
}

type Fn = (...args: never[]) => unknown;

const totals = new Map<string, { calls: number; ns: bigint }>();
let wrapped: Record<string, Fn> | undefined;
let profiling = false;

/** Starts (or restarts) collecting: totals are cleared. */
export function startProfile(): void {
  totals.clear();
  profiling = true;
}

/** Stops collecting and returns the totals, slowest first. */
export function stopProfile(): OpTime[] {
  profiling = false;
  return [...totals.entries()]
    .map(([op, t]) => ({ op, calls: t.calls, ms: Number(t.ns) / 1e6 }))
    .sort((a, b) => b.ms - a.ms);
}

/** Whether a profile is being collected. */
export function isProfiling(): boolean {
  return profiling;
}

/** The addon with every function timed; built once per loaded addon. */
export function profiledAddon<T extends object>(raw: T): T {
  if (!wrapped) {
    wrapped = {};
    for (const [name, value] of Object.entries(raw)) {
      if (typeof value !== 'function') continue;
      const fn = value as Fn;
      wrapped[name] = ((...args: never[]) => {
        const t0 = process.hrtime.bigint();
        try {
          return fn(...args);
        } finally {
          const key = name === 'gemm' ? gemmKey(args[0]) : name === 'gemmBf16' ? gemmBf16Key(args[0]) : name;
          const t = totals.get(key) ?? { calls: 0, ns: 0n };
          t.calls++;
          t.ns += process.hrtime.bigint() - t0;
          totals.set(key, t);
        }
      }) as Fn;
    }
  }
  return wrapped as T;
}

// GEMMs are told apart by their transposes (nt is a Linear's forward, nn its input gradient,
// tn a weight gradient) and their shapes MxNxK.
// Each native function takes one object of named arguments (src/native/addonApi.ts).
interface GemmShape {
  m: number;
  n: number;
  k: number;
  transA?: boolean;
  transB?: boolean;
  pre?: unknown;
}

function gemmKey(args: unknown): string {
  const g = args as GemmShape;
  return `gemm ${g.transA ? 't' : 'n'}${g.transB ? 't' : 'n'} ${g.m}x${g.n}x${g.k}`;
}

function gemmBf16Key(args: unknown): string {
  const g = args as GemmShape;
  return `gemmBf16 ${g.m}x${g.n}x${g.k}${g.pre ? ' +pre' : ''}`;
}
