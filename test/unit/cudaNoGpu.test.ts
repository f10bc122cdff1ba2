/**
 * The CUDA addon where no GPU can run it (this machine and CI): it is compiled from source by
 * `npm run build:cuda` (.ci/run does that wherever nvcc exists), it loads without any CUDA library,
 * and every way in refuses with a coded error naming why; its bindings validate device tensors
 * before anything could touch device memory. The checks on a GPU are scripts/gpu-check.js.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { createBackend } from '../../src/backend';
import { cudaAddon, cudaAddonCandidates, CudaAddon } from '../../src/native/cudaAddon';
import { loadModel } from '../../src/posapl/loadModel';

const built = path.resolve(__dirname, '..', '..', 'build-cuda', 'Release', 'posapl_cuda.node');
const hasNvcc = spawnSync('nvcc', ['--version'], { stdio: 'ignore' }).status === 0;
const hasGpu = spawnSync('nvidia-smi', ['-L'], { stdio: 'ignore' }).status === 0;

// Where nvcc exists the CUDA addon must have been built (a missing build is a failure, not a skip).
const describeBuilt = hasNvcc && !hasGpu ? describe : describe.skip;
if (!hasNvcc) console.log('cudaNoGpu: no nvcc on this machine, so no CUDA addon to test');

describeBuilt('the CUDA addon without a GPU', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const raw = () => require(built) as CudaAddon;

  it('was compiled and loads without CUDA libraries, its backend table named cuda', () => {
    expect(fs.existsSync(built)).toBe(true);
    const info = raw().info();
    expect(info.backend).toBe('cuda');
    expect(info.cuda).toBe(true);
  });

  it("offers every op of the CPU addon's table under the same name (the image ops stay on the host)", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const cpu = Object.keys(require('../../src/native/addon').addon());
    const cuda = new Set(Object.keys(raw()));
    const hostOnly = cpu.filter((name) => /^image|^setThreads$/.test(name));
    expect(hostOnly.length).toBeGreaterThan(0);
    expect(cpu.filter((name) => !cuda.has(name) && !hostOnly.includes(name))).toEqual([]);
    for (const own of ['cudaProbe', 'deviceAlloc', 'deviceFree', 'upload', 'download', 'deviceCopy', 'deviceFill', 'synchronize',
      'deviceMemory', 'setMathMode', 'argmaxRows', 'gatherRows', 'scatterRows']) expect(cuda.has(own)).toBe(true);
  });

  it('probes CUDA and says why it cannot run', () => {
    const probe = raw().cudaProbe();
    expect(probe.ok).toBe(false);
    expect(probe.reason).toMatch(/driver|GPU/);
    expect(probe.runtimeVersion).toBeGreaterThanOrEqual(13000);
  });

  it('refuses device memory and ops with coded errors, never a crash', () => {
    const a = raw();
    expect(() => a.deviceAlloc({ bytes: 1024 })).toThrow(expect.objectContaining({ code: 'POSAPL_NO_CUDA' }));
    // Host arrays are not device tensors: named, refused before any kernel.
    expect(() => a.axpy({ y: new Float32Array(4), x: new Float32Array(4), alpha: 1, n: 4 } as never))
      .toThrow(expect.objectContaining({ code: 'POSAPL_TYPE', message: expect.stringMatching(/Expected a f32 device tensor of length 4 for y but received Float32Array/) }));
    // A forged address is not live device memory of this addon.
    const forged = { address: 4096n, length: 4, dtype: 'f32' };
    expect(() => a.axpy({ y: forged, x: forged, alpha: 1, n: 4 } as never))
      .toThrow(expect.objectContaining({ code: 'POSAPL_DEVICE', message: expect.stringMatching(/y to lie in live device memory/) }));
    // The wrong dtype and the wrong length are named as for host arrays.
    expect(() => a.axpy({ y: { ...forged, dtype: 'i32' }, x: forged, alpha: 1, n: 4 } as never))
      .toThrow(expect.objectContaining({ code: 'POSAPL_TYPE', message: expect.stringMatching(/for y but received a i32 device tensor of length 4/) }));
    expect(() => a.axpy({ y: { ...forged, length: 3 }, x: forged, alpha: 1, n: 4 } as never))
      .toThrow(expect.objectContaining({ code: 'POSAPL_SHAPE' }));
    expect(() => a.deviceFree({ address: 4096n })).toThrow(expect.objectContaining({ code: 'POSAPL_DEVICE' }));
    expect(() => a.synchronize()).toThrow(expect.objectContaining({ code: expect.stringMatching(/POSAPL_(CUDA|NO_CUDA)/) }));
  });

  it("gives POSAPL_NO_CUDA with the probe's reason to createBackend and loadModel", async () => {
    const reason = raw().cudaProbe().reason;
    expect(() => cudaAddon()).toThrow(expect.objectContaining({ code: 'POSAPL_NO_CUDA', message: expect.stringContaining(reason) }));
    expect(() => createBackend('cuda')).toThrow(expect.objectContaining({ code: 'POSAPL_NO_CUDA' }));
    await expect(loadModel({ random: true, config: 'rsitmd', device: 'cuda' })).rejects
      .toMatchObject({ code: 'POSAPL_NO_CUDA', message: expect.stringContaining(reason) });
  });
});

describe('device "cuda" where no CUDA addon exists', () => {
  it('names the files looked for and the command that builds one', () => {
    // The compiled loader in a package folder with no build-cuda/ and no prebuilds/.
    const pkg = fs.mkdtempSync(path.join(os.tmpdir(), 'posapl-nocuda-'));
    try {
      const lib = path.resolve(__dirname, '..', '..', 'lib');
      fs.mkdirSync(path.join(pkg, 'lib', 'native'), { recursive: true });
      fs.copyFileSync(path.join(lib, 'native', 'cudaAddon.js'), path.join(pkg, 'lib', 'native', 'cudaAddon.js'));
      fs.copyFileSync(path.join(lib, 'errors.js'), path.join(pkg, 'lib', 'errors.js'));
      const r = spawnSync(process.execPath, ['-e', `
        try { require(${JSON.stringify(path.join(pkg, 'lib', 'native', 'cudaAddon.js'))}).cudaAddon(); }
        catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`], { encoding: 'utf8', env: { ...process.env, POSAPL_CUDA_ADDON: '' } });
      const error = JSON.parse(r.stdout);
      expect(error.code).toBe('POSAPL_NO_CUDA');
      expect(error.message).toContain(path.join(pkg, 'build-cuda', 'Release', 'posapl_cuda.node'));
      expect(error.message).toMatch(/has none .*npm run build:cuda/);
    } finally {
      fs.rmSync(pkg, { recursive: true, force: true });
    }
    expect(cudaAddonCandidates().some((f) => f.endsWith(path.join('build-cuda', 'Release', 'posapl_cuda.node')))).toBe(true);
  });
});
