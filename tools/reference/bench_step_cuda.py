"""The PyTorch eager peer of scripts/gpu-check.js on a CUDA GPU: the reference model of
posapl_model.py (ViT-B/32 POSAPL, random weights) timed for a training step (forward of both
towers, both losses, backward to the adapters, HF AdamW) and for encoding, in fp32, tf32 and bf16
autocast. Times are medians over CUDA-synchronised steps after warm-up. Prints one JSON object."""
import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
import posapl_model as pm  # noqa: E402
from gen_model import FULL_CONFIGS  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument('--config', choices=sorted(FULL_CONFIGS), default='rsitmd')
parser.add_argument('--batches', default='32,256')
parser.add_argument('--precisions', default='fp32,tf32,bf16')
parser.add_argument('--steps', type=int, default=6)
parser.add_argument('--encode-batch', type=int, default=256)
args = parser.parse_args()

dev = torch.device('cuda')
torch.manual_seed(0)
cfg = FULL_CONFIGS[args.config]
model = pm.Posapl(cfg).to(dev)
trainable = model.freeze_backbone()
opt = pm.HfAdamW([p for _, p in trainable])
ctx = cfg['text_cfg']['context_length']


def triplet(img, txt, margin=0.1, gamma=2.0):
    s = img @ txt.t()
    d = s.diag()
    eye = torch.eye(s.shape[0], dtype=torch.bool, device=s.device)
    c_s = (margin + s - d.view(-1, 1)).clamp(min=0).masked_fill(eye, 0)
    c_im = (margin + s - d.view(1, -1)).clamp(min=0).masked_fill(eye, 0)
    return ((c_s ** gamma).sum() + (c_im ** gamma).sum()) / 2


def batch(n):
    pixels = torch.randn(n, 3, 224, 224, device=dev)
    ids = torch.randint(1, 49000, (n, ctx), device=dev)
    ids[:, 20] = 49407
    return pixels, ids, torch.arange(n, device=dev) // 2


def set_precision(p):
    torch.backends.cuda.matmul.allow_tf32 = p == 'tf32'
    torch.backends.cudnn.allow_tf32 = p == 'tf32'


def timed(fn, steps):
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


results = {'torch': torch.__version__, 'device': torch.cuda.get_device_name(0), 'config': args.config, 'step': [], 'encode': []}
for precision in args.precisions.split(','):
    set_precision(precision)
    for n in [int(b) for b in args.batches.split(',')]:
        pixels, ids, image_ids = batch(n)

        def step():
            for _, p in trainable:
                p.grad = None
            with torch.autocast('cuda', dtype=torch.bfloat16, enabled=precision == 'bf16'):
                img, txt = model.encode(pixels, ids, ids)
                loss = pm.contrastive_loss(img.float(), txt.float(), image_ids, model.logit_scale) + triplet(img.float(), txt.float())
            loss.backward()
            opt.step(1e-3)

        torch.cuda.reset_peak_memory_stats()
        seconds = timed(step, args.steps)
        results['step'].append({'precision': precision, 'batch': n, 'seconds': seconds,
                                'peak_bytes': torch.cuda.max_memory_allocated()})
        print(json.dumps(results['step'][-1]), file=sys.stderr, flush=True)
    n = args.encode_batch
    pixels, ids, _ = batch(n)
    with torch.no_grad(), torch.autocast('cuda', dtype=torch.bfloat16, enabled=precision == 'bf16'):
        img_s = timed(lambda: model.visual(pixels), args.steps)
        txt_s = timed(lambda: model.text(ids, ids), args.steps)
    results['encode'].append({'precision': precision, 'batch': n, 'images_per_s': n / img_s, 'captions_per_s': n / txt_s})
    print(json.dumps(results['encode'][-1]), file=sys.stderr, flush=True)
print(json.dumps(results))
