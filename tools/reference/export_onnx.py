"""Exports the two towers of the reference POSAPL model (posapl_model.py) at ViT-B/32 size to ONNX,
with the weights of a file posapl-native wrote (`model.save(path, {format: 'torch'})`), so that
onnxruntime computes the same function as the package. Used by bench/encode.js.

  image tower: pixels (N,3,224,224) float32          -> image (N,512) L2-normalised
  text tower:  ids (N,77) int64, pos_ids (N,77) int64 -> text (N,512)  L2-normalised

N is a dynamic axis. Run with Debian's torch 1.13 (torch.onnx.export needs no `onnx` package):
  /usr/bin/python3 tools/reference/export_onnx.py --config rsitmd --weights W.bin --out-dir DIR
"""
import argparse
import os
import sys

import torch
from torch import nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import posapl_model as pm  # noqa: E402
from gen_model import FULL_CONFIGS  # noqa: E402

OPSET = 14  # the newest torch 1.13 exports that every onnxruntime since 1.11 runs


class ImageEncoder(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.visual = model.visual

    def forward(self, pixels):
        return F.normalize(self.visual(pixels), dim=-1)


class TextEncoder(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.text = model.text

    def forward(self, ids, pos_ids):
        return F.normalize(self.text(ids, pos_ids), dim=-1)


def load_model(config, weights):
    model = pm.Posapl(FULL_CONFIGS[config])
    state = torch.load(weights, map_location='cpu')
    # The file holds every name torch's state_dict() lists (the adapters' second names included).
    model.load_state_dict(state, strict=True)
    return model.eval()


def export(module, inputs, names, path):
    tmp = path + '.tmp'
    torch.onnx.export(
        module, inputs, tmp, opset_version=OPSET, input_names=names, output_names=['embedding'],
        dynamic_axes={**{n: {0: 'batch'} for n in names}, 'embedding': {0: 'batch'}},
        do_constant_folding=True)
    os.replace(tmp, path)
    print(f'wrote {path} ({os.path.getsize(path) / 2**20:.0f} MB)')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--config', choices=sorted(FULL_CONFIGS), default='rsitmd')
    parser.add_argument('--weights', required=True, help='a state dict posapl-native saved (torch format)')
    parser.add_argument('--out-dir', required=True)
    args = parser.parse_args()

    torch.set_num_threads(1)
    model = load_model(args.config, args.weights)
    cfg = FULL_CONFIGS[args.config]
    size, ctx = cfg['vision_cfg']['image_size'], cfg['text_cfg']['context_length']
    # Traced at batch 2 so that no size-1 dimension is folded into a constant.
    pixels = torch.randn(2, 3, size, size)
    ids = torch.randint(1, 1000, (2, ctx))
    ids[:, 5] = cfg['text_cfg']['vocab_size'] - 1
    os.makedirs(args.out_dir, exist_ok=True)
    with torch.no_grad():
        export(ImageEncoder(model), (pixels,), ['pixels'], os.path.join(args.out_dir, f'{args.config}-image.onnx'))
        export(TextEncoder(model), (ids, ids.clone()), ['ids', 'pos_ids'],
               os.path.join(args.out_dir, f'{args.config}-text.onnx'))


if __name__ == '__main__':
    main()
