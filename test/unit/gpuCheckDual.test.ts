/**
 * The op-by-op comparison scripts/gpu-check.js runs on a GPU host (scripts/gpu/dual-backend.js),
 * tested here with a second CPU backend in CUDA's place: it covers every op the model calls,
 * finds nothing between identical backends, and names the op and the argument when the second
 * backend computes one op wrongly. Like the check, it runs in a plain Node process on the
 * compiled library (lib/, built by npm test's pretest).
 */
import { spawnSync } from 'child_process';
import * as path from 'path';

interface OpRow { op: string; error: number; worstArg: string; ok: boolean }

const root = path.resolve(__dirname, '..', '..');

// A tiny model's encoding, training step and gradient-cached step through the dual backend;
// `wrong`: the second backend adds 1e-3 to one output element of every LayerNorm forward.
const RUNNER = `
const root = process.argv[1], wrong = process.argv[2] === 'wrong';
const { CpuBackend } = require(root + '/lib/backend');
const { DEMO_CONFIG } = require(root + '/lib/demo/config');
const { resolveConfig } = require(root + '/lib/clip/config');
const { PosaplModel } = require(root + '/lib/posapl/model');
const { DualBackend, OPS } = require(root + '/scripts/gpu/dual-backend.js');
class WrongLayerNorm extends CpuBackend {
  layerNormForward = (a) => { new CpuBackend().layerNormForward(a); a.out.storage[0] += 1e-3; };
}
const dual = new DualBackend(new CpuBackend(), wrong ? new WrongLayerNorm() : new CpuBackend(), 1e-5);
const model = new PosaplModel(resolveConfig(DEMO_CONFIG), dual);
model.params.initialise(3);
const n = 4, L = model.config.text_cfg.context_length, S = model.config.vision_cfg.image_size;
const pixels = Float32Array.from({ length: n * 3 * S * S }, (_, i) => Math.sin(i * 0.37));
const ids = new Int32Array(n * L);
for (let i = 0; i < n; i++) {
  ids[i * L] = 512;
  for (let j = 1; j < 6 + i; j++) ids[i * L + j] = 97 + ((i * 7 + j * 3) % 26);
  ids[i * L + 6 + i] = 513;
}
const batch = { pixels, ids, posIds: ids, imageIds: Int32Array.from([0, 0, 1, 2]), n };
model.encodeImages(pixels, n);
model.zeroGradients();
model.lossAndGradients(batch);
model.step(1e-3);
model.lossAndGradients({ ...batch, microBatch: 2 });
model.dispose();
console.log(JSON.stringify({ ops: OPS, rows: dual.perOp() }));
`;

function runModel(variant: 'same' | 'wrong'): { ops: string[]; rows: OpRow[] } {
  const r = spawnSync(process.execPath, ['-e', RUNNER, root, variant], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`dual-backend runner failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe("the GPU check's dual backend", () => {
  it('runs every op of the table through the model and finds identical backends identical', () => {
    const { ops, rows } = runModel('same');
    const seen = rows.map((r) => r.op);
    // Every op the check lists is one the model ran (copy and fill included), but biasGrad: the
    // model reaches it only inside the fused adapters' native code (the op harness covers it).
    for (const op of ops.filter((o) => o !== 'biasGrad')) expect(seen).toContain(op);
    for (const r of rows) {
      expect(r.error).toBe(0);
      expect(r.ok).toBe(true);
    }
  });

  it('names the op and argument a wrong backend gets wrong, and only that op', () => {
    const { rows } = runModel('wrong');
    const bad = rows.filter((r) => !r.ok);
    expect(bad.map((r) => r.op)).toEqual(['layerNormForward']);
    expect(bad[0].worstArg).toMatch(/out$/);
    expect(bad[0].error).toBeGreaterThan(1e-5);
  });
});
