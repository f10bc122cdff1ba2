import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readModelConfig, unknownConfigKeys } from '../../../src/cli/modelOptions';
import { PRESETS } from '../../../src/clip/config';

const SMALL = {
  embed_dim: 16,
  vision_cfg: { image_size: 32, patch_size: 8, width: 16, layers: 2, head_width: 8 },
  text_cfg: { context_length: 16, vocab_size: 100, width: 16, heads: 2, layers: 2 },
};

let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posapl-config-'))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const write = (name: string, text: string) => {
  fs.writeFileSync(path.join(dir, name), text);
  return path.join(dir, name);
};
const failure = (f: () => unknown): { code: string; message: string } => {
  try {
    f();
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('no error');
};

describe('readModelConfig', () => {
  it('reads presets and files, warning once about unknown keys by their path', () => {
    expect(readModelConfig('rsicd', () => undefined)).toEqual(PRESETS.rsicd);
    const warnings: string[] = [];
    const file = write('extra.json', JSON.stringify({ ...SMALL, quick_gelu: false, embed: 3, text_cfg: { ...SMALL.text_cfg, head: 1 }, posapl: { down_dimm: 8 } }));
    const config = readModelConfig(file, (w) => warnings.push(w));
    expect(config.text_cfg.heads).toBe(2);
    expect(warnings).toEqual([`--config ${file}: ignoring unknown keys embed, text_cfg.head, posapl.down_dimm`]);
    expect(unknownConfigKeys(SMALL)).toEqual([]);
  });

  it('names the file with the line and column or the field at fault', () => {
    expect(failure(() => readModelConfig(path.join(dir, 'nope.json'), () => undefined))).toMatchObject({
      code: 'POSAPL_USAGE', message: `--config must be 'rsitmd', 'rsicd' or a JSON file, but ${path.join(dir, 'nope.json')} is neither`,
    });
    const broken = write('broken.json', '{\n  "embed_dim": 16,\n  oops\n}');
    expect(failure(() => readModelConfig(broken, () => undefined))).toMatchObject({ code: 'POSAPL_CONFIG', message: expect.stringMatching(new RegExp(`^--config ${broken}:3:3: malformed JSON`)) });
    const bad = write('bad.json', JSON.stringify({ ...SMALL, vision_cfg: { ...SMALL.vision_cfg, width: 'wide' } }));
    expect(failure(() => readModelConfig(bad, () => undefined))).toMatchObject({
      code: 'POSAPL_CONFIG', message: `--config ${bad}: Expected positive integer for vision_cfg.width but received "wide"`,
    });
    expect(failure(() => readModelConfig(write('list.json', '[]'), () => undefined)).message).toMatch(/expected a JSON object/);
  });
});
