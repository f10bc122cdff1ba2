"""Parity fixtures for the POSAPL model (issue 5): small configurations with both paper flag
sets, random backbone weights and random NON-ZERO adapter weights.

For each configuration writes test/fixtures/model/<name>/:
  backbone.bin  the backbone in open_clip's layout (torch.save zip), as users download it
  adapters.bin  the adapters in the authors' layout, `model.`-prefixed, both names of shared tensors
  expected.json inputs, embeddings, both losses, every trainable gradient, and the trainable
                parameters after 3 HF-AdamW steps under the per-step cosine schedule
Run with Debian's torch: /usr/bin/python3 tools/reference/gen_model.py
`--full DIR` writes the same at open_clip ViT-B/32 size (both paper presets, n=4) under DIR for
`npm run parity:full` instead (about 1.5 GB; not committed).
"""
import argparse
import copy
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
import posapl_model as pm  # noqa: E402
from fixture_io import FIXTURE_DIR, write_fixture  # noqa: E402

SMALL = {
    'embed_dim': 12,
    'vision_cfg': {'image_size': 32, 'patch_size': 8, 'width': 16, 'layers': 7, 'head_width': 8},
    'text_cfg': {'context_length': 10, 'vocab_size': 50, 'width': 16, 'heads': 2, 'layers': 7},
}
CONFIGS = {
    # RSITMD flags: chained Side Fusion, POS only at the input.
    'small_rsitmd': {**SMALL, 'posapl': {'down_dim': 8, 'sa_heads': 2, 'pos_side': False, 'down_dim_pos': 8,
                                         'side_fusion': 'chained'}},
    # RSICD flags: end-add Side Fusion, per-layer POS adapters.
    'small_rsicd': {**SMALL, 'posapl': {'down_dim': 8, 'sa_heads': 2, 'pos_side': True, 'down_dim_pos': 8,
                                        'side_fusion': 'end-add'}},
}
VIT_B_32 = {
    'embed_dim': 512,
    'vision_cfg': {'image_size': 224, 'patch_size': 32, 'width': 768, 'layers': 12, 'head_width': 64},
    'text_cfg': {'context_length': 77, 'vocab_size': 49408, 'width': 512, 'heads': 8, 'layers': 12},
}
FULL_CONFIGS = {
    'rsitmd': {**VIT_B_32, 'posapl': {'down_dim': 128, 'sa_heads': 8, 'pos_side': False, 'down_dim_pos': 64,
                                      'side_fusion': 'chained'}},
    'rsicd': {**VIT_B_32, 'posapl': {'down_dim': 128, 'sa_heads': 8, 'pos_side': True, 'down_dim_pos': 128,
                                     'side_fusion': 'end-add'}},
}
STEPS, TOTAL_STEPS, LR = 3, 5, 1e-3


def make_ids(gen, n, ctx, vocab):
    """SOT-like start, random words, EOT (the largest id) at a random end, zero padding."""
    ids = torch.zeros(n, ctx, dtype=torch.long)
    for i in range(n):
        length = int(torch.randint(2, ctx - 1, (1,), generator=gen))
        ids[i, 0] = vocab - 2
        ids[i, 1:length] = torch.randint(1, vocab - 2, (length - 1,), generator=gen)
        ids[i, length] = vocab - 1
    return ids


def generate(name, cfg, seed, out_root=None, n=6, exact=False):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    model = pm.Posapl(cfg)
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if 'adapter' in pname:
                # Small configs: large weights, so every path shows in the result. ViT-B/32: the
                # scale of trained adapters (fan-in scaled), where float32 stays well conditioned.
                scale = 0.2 if not exact else (p.shape[-1] ** -0.5 if p.dim() == 2 else 0.02)
                p.copy_(torch.randn(p.shape, generator=gen) * scale)
        # A non-trivial logit scale (the LAION value).
        model.logit_scale.fill_(4.6052)
    out_dir = os.path.abspath(os.path.join(out_root or os.path.join(FIXTURE_DIR, 'model'), name))
    os.makedirs(out_dir, exist_ok=True)
    torch.save(pm.open_clip_state_dict(model), os.path.join(out_dir, 'backbone.bin'))
    torch.save({'model.' + k: v for k, v in model.state_dict().items() if 'adapter' in k},
               os.path.join(out_dir, 'adapters.bin'))

    v, t = cfg['vision_cfg'], cfg['text_cfg']
    pixels = torch.randn(n, 3, v['image_size'], v['image_size'], generator=gen)
    ids = make_ids(gen, n, t['context_length'], t['vocab_size'])
    pos_ids = make_ids(gen, n, t['context_length'], t['vocab_size'])
    image_ids = torch.tensor([0, 1, 1, 2, 3, 3][:n])

    inputs = (pixels, ids, pos_ids, image_ids)
    # run() trains the model it is given: keep a copy of the starting point for the exact run.
    start_model = copy.deepcopy(model) if exact else None
    results = run(model, inputs, record_first_step=exact)
    meta = {'config': cfg, 'trainable': [n for n, _ in model.trainable()], 'steps': STEPS,
            'total_steps': TOTAL_STEPS, 'lr': LR, 'torch': torch.__version__, 'dtype': 'float32'}
    if exact:
        # The reference is float64 (the exact answer for these float32 weights and inputs);
        # torch's own float32 run is measured against it so the figures can be read side by side.
        exact_results = run(start_model.double(), inputs, record_first_step=True)
        meta['dtype'] = 'float64'
        meta['torch_float32_error'] = errors(results, exact_results)
        results = exact_results
    # Starting values are the adapters file's; only the results are written.
    results = {k: v for k, v in results.items() if not k.startswith('start.')}
    tensors = {'pixels': pixels, 'ids': ids, 'pos_ids': pos_ids, 'image_ids': image_ids, **results}
    write_fixture(os.path.join(out_dir, 'expected'), tensors, meta)


def run(model, inputs, record_first_step=False):
    """Embeddings, losses and gradients of one batch, then the trainable tensors after STEPS
    HF-AdamW steps under the cosine schedule, all in the model's dtype."""
    dtype = next(model.parameters()).dtype
    pixels, ids, pos_ids, image_ids = inputs
    pixels = pixels.to(dtype)
    trainable = model.freeze_backbone()

    def loss():
        img, txt = model.encode(pixels, ids, pos_ids)
        lc = pm.contrastive_loss(img, txt, image_ids, model.logit_scale)
        lt = pm.triplet_loss(img, txt)
        (lc + lt).backward()
        return img, txt, lc, lt

    img, txt, lc, lt = loss()
    out = {'image_embeddings': img.detach(), 'text_embeddings': txt.detach(),
           'losses': torch.stack([lc.detach(), lt.detach()])}
    for pname, p in trainable:
        out['grad.' + pname] = p.grad.clone()
    start = {'start.' + pname: p.detach().clone() for pname, p in trainable}
    opt = pm.HfAdamW([p for _, p in trainable])
    for step in range(STEPS):
        if step > 0:
            for _, p in trainable:
                p.grad = None
            loss()
        opt.step(pm.cosine_lr(LR, step, TOTAL_STEPS))
        if step == 0 and record_first_step:
            for pname, p in trainable:
                out['after1.' + pname] = p.detach().clone()
    for pname, p in trainable:
        out['after.' + pname] = p.detach().clone()
    out.update(start)
    return out


def errors(approx, exact):
    """Norm-wise relative errors of a float32 run against the float64 one, as parity-full.js prints them."""
    def rel(a, b):
        return ((a.double() - b.double()).norm() / b.double().norm().clamp(min=1e-30)).item()
    before = {k[len('after.'):]: None for k in exact if k.startswith('after.')}
    grads = [rel(approx[k], exact[k]) for k in exact if k.startswith('grad.')]
    return {
        'image_embeddings': rel(approx['image_embeddings'], exact['image_embeddings']),
        'text_embeddings': rel(approx['text_embeddings'], exact['text_embeddings']),
        'contrastive': rel(approx['losses'][:1], exact['losses'][:1]),
        'triplet': rel(approx['losses'][1:], exact['losses'][1:]),
        'worst_gradient': max(grads),
        'worst_update_after_1_step': max(
            rel(approx['after1.' + k] - approx['start.' + k], exact['after1.' + k] - exact['start.' + k])
            for k in before),
        'worst_update_after_3_steps': max(
            rel(approx['after.' + k] - approx['start.' + k], exact['after.' + k] - exact['start.' + k])
            for k in before),
    }


if __name__ == '__main__':
    parser = argparse.ArgumentParser()
    parser.add_argument('--full', metavar='DIR', help='ViT-B/32 size into DIR instead of the committed fixtures')
    args = parser.parse_args()
    if args.full:
        torch.set_num_threads(2)
        for i, (name, cfg) in enumerate(FULL_CONFIGS.items()):
            generate(name, cfg, 2024 + i, out_root=args.full, n=4, exact=True)
    else:
        for i, (name, cfg) in enumerate(CONFIGS.items()):
            generate(name, cfg, 2024 + i)
