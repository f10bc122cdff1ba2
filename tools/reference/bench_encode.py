"""The PyTorch peer of `npm run bench:encode`: encoding throughput of the reference model of
posapl_model.py (eager, torch.no_grad) on the inputs and weights bench/encode.js prepared.
For each batch size every thread count given is tried and the fastest kept. Writes the
embeddings of the largest batch to --embeddings and prints one JSON line.
Run it with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset (bench/encode.js does)."""
import argparse
import json
import os
import resource
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from export_onnx import load_model  # noqa: E402
from gen_model import FULL_CONFIGS  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument('--config', choices=sorted(FULL_CONFIGS), default='rsitmd')
parser.add_argument('--weights', required=True)
parser.add_argument('--inputs', required=True, help='pixels (B,3,S,S) f32, ids (B,L) i32, pos ids (B,L) i32')
parser.add_argument('--max-batch', type=int, required=True)
parser.add_argument('--batches', required=True)
parser.add_argument('--threads', default='1,2')
parser.add_argument('--min-seconds', type=float, default=2.0)
parser.add_argument('--embeddings', required=True)
args = parser.parse_args()

cfg = FULL_CONFIGS[args.config]
S, L = cfg['vision_cfg']['image_size'], cfg['text_cfg']['context_length']
B = args.max_batch
raw = np.fromfile(args.inputs, dtype=np.uint8)
pixels = torch.from_numpy(raw[:B * 3 * S * S * 4].view('<f4').reshape(B, 3, S, S).copy())
ids = torch.from_numpy(raw[B * 3 * S * S * 4:].view('<i4').reshape(2, B, L).astype(np.int64))
ids, pos_ids = ids[0], ids[1]
model = load_model(args.config, args.weights)


def throughput(run, n):
    """Warm-up call, then timed calls until min_seconds have passed (at least two)."""
    out = run()
    calls, t0 = 0, time.perf_counter()
    while True:
        out = run()
        calls += 1
        seconds = time.perf_counter() - t0
        if calls >= 2 and (seconds >= args.min_seconds or calls >= 50):
            return n * calls / seconds, out


rows, largest = [], {}
with torch.no_grad():
    for n in [int(b) for b in args.batches.split(',')]:
        row = {'batch': n, 'images_per_s': 0.0, 'captions_per_s': 0.0}
        for threads in [int(t) for t in args.threads.split(',')]:
            torch.set_num_threads(threads)
            img_rate, img = throughput(lambda: torch.nn.functional.normalize(model.visual(pixels[:n]), dim=-1), n)
            txt_rate, txt = throughput(
                lambda: torch.nn.functional.normalize(model.text(ids[:n], pos_ids[:n]), dim=-1), n)
            if img_rate > row['images_per_s']:
                row['images_per_s'], row['image_threads'] = img_rate, threads
            if txt_rate > row['captions_per_s']:
                row['captions_per_s'], row['text_threads'] = txt_rate, threads
            if n == B:
                largest = {'image': img, 'text': txt}
        rows.append(row)

np.concatenate([largest['image'].numpy().ravel(), largest['text'].numpy().ravel()]).astype('<f4').tofile(
    args.embeddings)
print(json.dumps({'rows': rows, 'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  'torch': torch.__version__}))
