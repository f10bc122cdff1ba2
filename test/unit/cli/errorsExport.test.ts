import * as api from '../../../src';
import { ops } from '../../../src';

describe('errors in the public API', () => {
  it('exports posaplError and isPosaplError, which recognises native errors too', () => {
    const e = api.posaplError('POSAPL_DATA', 'x.json: entry 0: bad');
    expect(e).toBeInstanceOf(Error);
    expect(api.isPosaplError(e)).toBe(true);
    expect(api.isPosaplError(new Error('plain'))).toBe(false);
    expect(api.isPosaplError(null)).toBe(false);
    let native: unknown;
    try {
      ops.axpy(1 as never, null as never, null as never);
    } catch (error) {
      native = error;
    }
    expect(api.isPosaplError(native)).toBe(true);
    const code: api.PosaplErrorCode = (native as api.PosaplError).code;
    expect(['POSAPL_ARGS', 'POSAPL_TYPE']).toContain(code);
  });

  it('needs weights, or an explicit random: true, to load a model', async () => {
    const config = {
      embed_dim: 8, vision_cfg: { image_size: 32, patch_size: 16, width: 16, layers: 2, head_width: 8 },
      text_cfg: { context_length: 8, vocab_size: 50, width: 16, heads: 2, layers: 2 }, posapl: { down_dim: 8, sa_heads: 2 },
    };
    await expect(api.loadModel({ config })).rejects.toMatchObject({ code: 'POSAPL_ARGS', message: expect.stringMatching(/no weights given: pass weights .*, or random: true/) });
    const model = await api.loadModel({ config, random: true, seed: 1 });
    expect(model.config.embed_dim).toBe(8);
  });
});
