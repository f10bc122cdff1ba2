"""Parity fixtures for LayerNorm and multi-head attention (issue 2).

LayerNorm: torch.native_layer_norm (the op behind nn.LayerNorm, eps 1e-5), which also returns the
row mean and rstd; gradients of <out, dout> by autograd.

Attention: the math of nn.MultiheadAttention between in_proj and out_proj as torch 1.13 runs it
(F.multi_head_attention_forward -> _scaled_dot_product_attention: q / sqrt(D), q k^T plus a float
mask of -inf above the diagonal when causal, softmax, times v), written with torch ops so that qkv
is a leaf and autograd gives d<out, dout>/dqkv. qkv comes from a real nn.MultiheadAttention's
in_proj, and the script asserts that the module (with out_proj set to the identity) gives the same
output and attention weights as the written-out math.

Writes test/fixtures/layernorm_*.json and attention_*.json (small: all together under 200 KB).
Run with Debian's torch: /usr/bin/python3 tools/reference/gen_layers.py
"""
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from fixture_io import write_fixture  # noqa: E402

EPS = 1e-5


def layernorm_fixture(name, n, c, seed):
    g = torch.Generator().manual_seed(seed)
    x = (torch.randn(n, c, generator=g) * 2 + 0.5).requires_grad_()
    weight = (1 + 0.5 * torch.randn(c, generator=g)).requires_grad_()
    bias = (0.5 * torch.randn(c, generator=g)).requires_grad_()
    dout = torch.randn(n, c, generator=g)
    out, mean, rstd = torch.native_layer_norm(x, [c], weight, bias, EPS)
    reference = nn.functional.layer_norm(x, [c], weight, bias, EPS)
    assert torch.equal(out, reference)
    out.backward(dout)
    write_fixture(name, {
        'x': x, 'weight': weight, 'bias': bias, 'dout': dout,
        'out': out, 'mean': mean.view(n), 'rstd': rstd.view(n),
        'dx': x.grad, 'dweight': weight.grad, 'dbias': bias.grad,
    }, meta={'n': n, 'c': c, 'eps': EPS, 'source': 'torch.native_layer_norm + autograd, torch ' + torch.__version__})


def causal_mask(length):
    # open_clip's text mask: -inf above the diagonal, added to the scores.
    return torch.full((length, length), float('-inf')).triu_(1)


def attention(qkv, heads, causal):
    """(B,L,3E) packed as (3,H,D) per token -> out (B,L,E) and probs (B,H,L,L)."""
    b, length, three_e = qkv.shape
    e = three_e // 3
    d = e // heads
    q, k, v = (t.reshape(b, length, heads, d).transpose(1, 2) for t in qkv.split(e, dim=-1))
    q = q / math.sqrt(d)
    scores = q @ k.transpose(-2, -1)
    if causal:
        scores = scores + causal_mask(length)
    probs = F.softmax(scores, dim=-1)
    out = (probs @ v).transpose(1, 2).reshape(b, length, e)
    return out, probs


def attention_fixture(name, b, length, heads, d, causal, seed, keep_probs=True):
    g = torch.Generator().manual_seed(seed)
    e = heads * d
    torch.manual_seed(seed)  # the module's own initialisation
    mha = nn.MultiheadAttention(e, heads, batch_first=True)
    with torch.no_grad():
        mha.in_proj_bias.normal_(0, 0.2, generator=g)
        mha.out_proj.weight.copy_(torch.eye(e))
        mha.out_proj.bias.zero_()
    x = torch.randn(b, length, e, generator=g)
    mask = causal_mask(length) if causal else None
    with torch.no_grad():
        module_out, module_probs = mha(x, x, x, attn_mask=mask, need_weights=True, average_attn_weights=False)
        qkv = F.linear(x, mha.in_proj_weight, mha.in_proj_bias)
    qkv.requires_grad_()
    out, probs = attention(qkv, heads, causal)
    assert torch.allclose(out, module_out, rtol=1e-5, atol=1e-6), (out - module_out).abs().max()
    assert torch.allclose(probs, module_probs, rtol=1e-5, atol=1e-6), (probs - module_probs).abs().max()
    dout = torch.randn(b, length, e, generator=g)
    out.backward(dout)
    tensors = {'qkv': qkv, 'dout': dout, 'out': out, 'dqkv': qkv.grad}
    if keep_probs:
        tensors['probs'] = probs
    write_fixture(name, tensors, meta={
        'b': b, 'l': length, 'h': heads, 'd': d, 'causal': causal,
        'source': 'nn.MultiheadAttention math (in_proj .. before out_proj) + autograd, torch ' + torch.__version__,
    })


def main():
    layernorm_fixture('layernorm_small', 10, 32, 1)
    layernorm_fixture('layernorm_wide', 6, 100, 2)  # tails of 16-lane sums and 64-column blocks
    attention_fixture('attention_small', 2, 7, 2, 4, False, 3)
    attention_fixture('attention_small_causal', 2, 7, 2, 4, True, 4)
    # The adapter's attention at the text length (L 77, D 16, no mask); two heads rather than eight
    # keep the fixture small, heads being independent. probs are left out for the same reason.
    attention_fixture('attention_adapter_text', 1, 77, 2, 16, False, 5, keep_probs=False)
    attention_fixture('attention_text_causal', 1, 77, 1, 8, True, 6, keep_probs=False)


if __name__ == '__main__':
    main()
