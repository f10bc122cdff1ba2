"""Parity fixtures for the POSAPL model (issue 5): small configurations with both paper flag
sets, random backbone weights and random NON-ZERO adapter weights.

For each configuration writes test/fixtures/model/<name>/:
  backbone.bin  the backbone in open_clip's layout (torch.save zip), as users download it
  adapters.bin  the adapters in the authors' layout, `model.`-prefixed, both names of shared tensors
  expected.json inputs, embeddings, both losses, every trainable gradient, and the trainable
                parameters after 3 HF-AdamW steps under the per-step cosine schedule
Run with Debian's torch: /usr/bin/python3 tools/reference/gen_model.py
"""
import json
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
N = 6
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


def generate(name, cfg, seed):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    model = pm.Posapl(cfg)
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if 'adapter' in pname:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.2)
        # A non-trivial logit scale (the LAION value).
        model.logit_scale.fill_(4.6052)
    out_dir = os.path.join(FIXTURE_DIR, 'model', name)
    os.makedirs(out_dir, exist_ok=True)
    torch.save(pm.open_clip_state_dict(model), os.path.join(out_dir, 'backbone.bin'))
    torch.save({'model.' + k: v for k, v in model.state_dict().items() if 'adapter' in k},
               os.path.join(out_dir, 'adapters.bin'))

    v, t = cfg['vision_cfg'], cfg['text_cfg']
    pixels = torch.randn(N, 3, v['image_size'], v['image_size'], generator=gen)
    ids = make_ids(gen, N, t['context_length'], t['vocab_size'])
    pos_ids = make_ids(gen, N, t['context_length'], t['vocab_size'])
    image_ids = torch.tensor([0, 1, 1, 2, 3, 3])

    trainable = model.trainable()
    for _, p in model.named_parameters():
        p.requires_grad_(False)
    for _, p in trainable:
        p.requires_grad_(True)

    img, txt = model.encode(pixels, ids, pos_ids)
    lc = pm.contrastive_loss(img, txt, image_ids, model.logit_scale)
    lt = pm.triplet_loss(img, txt)
    (lc + lt).backward()
    tensors = {'pixels': pixels, 'ids': ids, 'pos_ids': pos_ids, 'image_ids': image_ids,
               'image_embeddings': img, 'text_embeddings': txt,
               'losses': torch.stack([lc.detach(), lt.detach()])}
    for pname, p in trainable:
        tensors['grad.' + pname] = p.grad

    opt = pm.HfAdamW([p for _, p in trainable])
    for step in range(STEPS):
        if step > 0:
            for _, p in trainable:
                p.grad = None
            img, txt = model.encode(pixels, ids, pos_ids)
            (pm.contrastive_loss(img, txt, image_ids, model.logit_scale) + pm.triplet_loss(img, txt)).backward()
        opt.step(pm.cosine_lr(LR, step, TOTAL_STEPS))
    for pname, p in trainable:
        tensors['after.' + pname] = p.detach()

    meta = {'config': cfg, 'trainable': [n for n, _ in trainable], 'steps': STEPS,
            'total_steps': TOTAL_STEPS, 'lr': LR, 'torch': torch.__version__}
    write_fixture(os.path.join('model', name, 'expected'), tensors, meta)


if __name__ == '__main__':
    for i, (name, cfg) in enumerate(CONFIGS.items()):
        generate(name, cfg, 2024 + i)
