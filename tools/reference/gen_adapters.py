"""Parity fixtures for the fused adapter ops (issue 2): the SA-adapter, the MLP adapter and the
four Side Fusion variants, built from real torch modules with random NON-ZERO weights (the
layers the model zero-initialises too, or the fixtures would prove nothing).

Each fixture holds the inputs, the parameters, the forward output, a random upstream gradient
and every gradient autograd gives for it. Tensors are laid out as the native ops take them:
tokens batch-first (N,L,C), weights in torch's (out,in) layout. The modules run in float64 on
float32-representable values, so the fixtures are float32 roundings of exact results.
Run with Debian's torch: /usr/bin/python3 tools/reference/gen_adapters.py
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(__file__))
from fixture_io import write_fixture  # noqa: E402


def randomize(module, gen, scale):
    """Every parameter random (float32-representable), zero-initialised ones included."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_((torch.randn(p.shape, generator=gen) * scale).float().double())


def rand(gen, *shape, scale=1.0):
    return (torch.randn(shape, generator=gen) * scale).float().double()


def sa_adapter(gen):
    n, l, c, r, h = 2, 7, 24, 16, 4
    down, up = nn.Linear(c, r).double(), nn.Linear(r, c).double()
    msa = nn.MultiheadAttention(r, h).double()  # sequence-first: (L,N,R)
    for mod in (down, up, msa):
        randomize(mod, gen, 0.3)
    m = rand(gen, n, l, c).requires_grad_()
    y = down(m).transpose(0, 1)  # (L,N,R)
    att, _ = msa(y, y, y)
    out = up((att + y).transpose(0, 1))  # (N,L,C)
    dout = rand(gen, n, l, c, scale=0.2)  # gradients O(1), as float32 rounding is relative to them
    out.backward(dout)
    write_fixture('sa_adapter', {
        'm': m, 'wd': down.weight, 'bd': down.bias, 'win': msa.in_proj_weight, 'bin': msa.in_proj_bias,
        'wo': msa.out_proj.weight, 'bo': msa.out_proj.bias, 'wu': up.weight, 'bu': up.bias,
        'out': out, 'dout': dout, 'dm': m.grad,
        'dwd': down.weight.grad, 'dbd': down.bias.grad, 'dwin': msa.in_proj_weight.grad,
        'dbin': msa.in_proj_bias.grad, 'dwo': msa.out_proj.weight.grad, 'dbo': msa.out_proj.bias.grad,
        'dwu': up.weight.grad, 'dbu': up.bias.grad,
    }, {'n': n, 'l': l, 'c': c, 'r': r, 'h': h,
        'module': 'Linear(c,r); nn.MultiheadAttention(r,h) over L, no mask, plus residual; Linear(r,c)'})


def mlp_adapter(gen):
    rows, c, r, cout = 9, 12, 6, 10
    l1, l2 = nn.Linear(c, r).double(), nn.Linear(r, cout).double()
    for mod in (l1, l2):
        randomize(mod, gen, 0.4)
    x = rand(gen, rows, c).requires_grad_()
    out = l2(torch.relu(l1(x)))
    dout = rand(gen, rows, cout)
    out.backward(dout)
    write_fixture('mlp_adapter', {
        'x': x, 'w1': l1.weight, 'b1': l1.bias, 'w2': l2.weight, 'b2': l2.bias, 'out': out, 'dout': dout,
        'dx': x.grad, 'dw1': l1.weight.grad, 'db1': l1.bias.grad, 'dw2': l2.weight.grad, 'db2': l2.bias.grad,
    }, {'rows': rows, 'c': c, 'r': r, 'cout': cout, 'module': 'Linear(c,r), ReLU, Linear(r,cout)'})


class TokenMean(nn.Module):
    """The mean over tokens closing each vision SL_k; a no-op on (N,C)."""

    def forward(self, x):
        return x if x.dim() == 2 else x.mean(dim=1)


def side_fusion(gen, name, chained, mean):
    n, l, c = 3, 5, 8
    tail = [TokenMean()] if mean else []
    sl = [nn.Sequential(nn.Linear(c, c), nn.ReLU(), *tail).double() for _ in range(3)]
    lin4 = nn.Linear(c, c).double()
    last = nn.Sequential(*tail, lin4)
    for mod in sl + [lin4]:
        randomize(mod, gen, 0.4)
    taps = [rand(gen, n, l, c).requires_grad_() for _ in range(4)]
    f1, f2, f3, f4 = taps
    # With the mean, s_k is (N,C) and is broadcast over the tokens before the next add.
    spread = (lambda s: s.unsqueeze(1)) if mean else (lambda s: s)
    s1 = sl[0](f1)
    if chained:
        s2 = sl[1](spread(s1) + f2)
        s3 = sl[2](spread(s2) + f3)
        s4 = last(spread(s3) + f4)
    else:
        s4 = last(s1 + sl[1](f2) + sl[2](f3))
    ds4 = rand(gen, *s4.shape)
    s4.backward(ds4)
    tensors = {'f1': f1, 'f2': f2, 'f3': f3}
    if chained:
        tensors['f4'] = f4
    for k, mod in enumerate([s[0] for s in sl] + [lin4], start=1):
        tensors[f'w{k}'], tensors[f'b{k}'] = mod.weight, mod.bias
    tensors.update({'s4': s4, 'ds4': ds4, 'df1': f1.grad, 'df2': f2.grad, 'df3': f3.grad})
    if chained:
        tensors['df4'] = f4.grad
    for k, mod in enumerate([s[0] for s in sl] + [lin4], start=1):
        tensors[f'dw{k}'], tensors[f'db{k}'] = mod.weight.grad, mod.bias.grad
    write_fixture(name, tensors, {'n': n, 'l': l, 'c': c, 'chained': chained, 'mean': mean})


def main():
    gen = torch.Generator().manual_seed(20250303)
    sa_adapter(gen)
    mlp_adapter(gen)
    side_fusion(gen, 'side_fusion_vision_chained', chained=True, mean=True)
    side_fusion(gen, 'side_fusion_vision_end_add', chained=False, mean=True)
    side_fusion(gen, 'side_fusion_text_chained', chained=True, mean=False)
    side_fusion(gen, 'side_fusion_text_end_add', chained=False, mean=False)


if __name__ == '__main__':
    main()
