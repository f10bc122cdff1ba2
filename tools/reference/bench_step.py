"""The PyTorch peer of `npm run bench:train`: one POSAPL training step (forward, both losses,
backward, HF AdamW) at ViT-B/32 size on the CPU, with the reference model of posapl_model.py.
Prints one JSON line: {"seconds_per_step": ..., "peak_rss_mb": ..., "threads": ...}.
Run it with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset (bench/train.js does)."""
import argparse
import json
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
import posapl_model as pm  # noqa: E402
from gen_model import FULL_CONFIGS  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument('--config', choices=sorted(FULL_CONFIGS), default='rsitmd')
parser.add_argument('--batch', type=int, default=32)
parser.add_argument('--steps', type=int, default=2)
parser.add_argument('--threads', type=int, default=1)
args = parser.parse_args()

torch.set_num_threads(args.threads)
torch.manual_seed(0)
cfg = FULL_CONFIGS[args.config]
model = pm.Posapl(cfg)
trainable = model.freeze_backbone()
opt = pm.HfAdamW([p for _, p in trainable])
n, ctx = args.batch, cfg['text_cfg']['context_length']
pixels = torch.randn(n, 3, 224, 224)
ids = torch.randint(1, 49000, (n, ctx))
ids[:, 20] = 49407
image_ids = torch.arange(n) // 2


def step():
    for _, p in trainable:
        p.grad = None
    img, txt = model.encode(pixels, ids, ids)
    (pm.contrastive_loss(img, txt, image_ids, model.logit_scale) + pm.triplet_loss(img, txt)).backward()
    opt.step(1e-3)


step()  # warm-up
t0 = time.perf_counter()
for _ in range(args.steps):
    step()
seconds = (time.perf_counter() - t0) / args.steps
print(json.dumps({'seconds_per_step': seconds, 'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  'threads': torch.get_num_threads(), 'torch': torch.__version__}))
