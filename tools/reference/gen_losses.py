"""Parity fixtures for the retrieval losses and the optimiser (issue 2, spec section 5).

Losses: torch autograd through the authors' formulas (posapl_main.py, get_contrastive_loss with
image ids and get_triplet_loss), in float32 as they train:
  logits = logit_scale * I T^T            (the raw parameter, not its exp)
  labels = eq(ids, ids^T) / row sums;  L_c = (CE(logits, labels) + CE(logits^T, labels)) / 2
  cost   = clamp(margin + S - diag, 0) with the diagonal zeroed, L_t = (sum cost_s^g + sum cost_im^g) / 2
AdamW: transformers is not installed here, so its update (transformers.optimization.AdamW,
correct_bias=True) is written out below with the same torch in-place calls in the same order.

Writes test/fixtures/losses_*.json and adamw_hf.json.
Run with Debian's torch: /usr/bin/python3 tools/reference/gen_losses.py
"""
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from fixture_io import write_fixture  # noqa: E402

LOGIT_SCALE = torch.tensor(math.log(100.0), dtype=torch.float32)  # 4.6052, as stored in the LAION weights


def contrastive_loss(image, text, ids, logit_scale):
    logits = logit_scale * (image @ text.t())
    same = torch.eq(ids.view(-1, 1), ids.view(1, -1)).float()
    labels = same / same.sum(dim=1, keepdim=True)
    image_to_text = -(F.log_softmax(logits, dim=1) * labels).sum(dim=1).mean()
    # The authors reuse the same label matrix for the transposed logits (it is symmetric).
    text_to_image = -(F.log_softmax(logits.t(), dim=1) * labels).sum(dim=1).mean()
    return (image_to_text + text_to_image) / 2.0


def triplet_loss(image, text, margin, gamma):
    scores = image @ text.t()
    diagonal = scores.diag().view(-1, 1)
    eye = torch.eye(scores.size(0), dtype=torch.bool)

    def summed_cost(diag):
        cost = (margin + scores - diag.expand_as(scores)).clamp(min=0).masked_fill(eye, 0)
        return (cost ** gamma).sum()

    # diag as a column: the text j as a negative for the image i; as a row: the image i for the text j.
    return (summed_cost(diagonal) + summed_cost(diagonal.t())) / 2.0


def batch(ids, e, noise, seed):
    """Pairs of one image share a base vector, as captions of one picture share its embedding."""
    g = torch.Generator().manual_seed(seed)
    base = torch.randn(int(ids.max()) + 1, e, generator=g)[ids]
    image = F.normalize(base + noise * torch.randn(base.shape, generator=g), dim=1)
    text = F.normalize(base + noise * torch.randn(base.shape, generator=g), dim=1)
    return image, text


def losses_fixture(name, n, e, ids, margin, gamma, contrastive_weight, triplet_weight, noise, seed):
    ids = torch.tensor(ids, dtype=torch.int64)
    image, text = batch(ids, e, noise, seed)
    image.requires_grad_(True)
    text.requires_grad_(True)
    lc = contrastive_loss(image, text, ids, LOGIT_SCALE)
    lt = triplet_loss(image, text, margin, gamma)
    d_image, d_text = torch.autograd.grad(contrastive_weight * lc + triplet_weight * lt, (image, text))
    dc_image, dc_text = torch.autograd.grad(contrastive_loss(image, text, ids, LOGIT_SCALE), (image, text))
    with torch.no_grad():
        s = image @ text.t()
        hinge = (margin + s - s.diag().view(-1, 1)).clamp(min=0).masked_fill(torch.eye(n, dtype=torch.bool), 0)
        active = float((hinge > 0).float().mean())
    print(f'{name}: L_c {lc.item():.6f}  L_t {lt.item():.6f}  active hinges {active:.2%}')
    write_fixture(name, {
        'image': image, 'text': text, 'image_ids': ids,
        'd_image': d_image, 'd_text': d_text, 'd_image_contrastive': dc_image, 'd_text_contrastive': dc_text,
    }, meta={
        'n': n, 'e': e, 'logit_scale': float(LOGIT_SCALE), 'margin': margin, 'gamma': gamma,
        'contrastive_weight': contrastive_weight, 'triplet_weight': triplet_weight,
        'contrastive': lc.item(), 'triplet': lt.item(),
        'note': 'd_image/d_text: gradients of contrastive_weight*L_c + triplet_weight*L_t; '
                'd_*_contrastive: of L_c alone (triplet switched off)',
    })


@torch.no_grad()
def hf_adamw_step(params, grads, exp_avgs, exp_avg_sqs, lr, betas, eps, weight_decay, step):
    """One step of transformers.optimization.AdamW (correct_bias=True), call for call."""
    beta1, beta2 = betas
    for p, grad, exp_avg, exp_avg_sq in zip(params, grads, exp_avgs, exp_avg_sqs):
        exp_avg.mul_(beta1).add_(grad, alpha=1.0 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
        denom = exp_avg_sq.sqrt().add_(eps)
        step_size = lr * math.sqrt(1.0 - beta2 ** step) / (1.0 - beta1 ** step)
        p.addcdiv_(exp_avg, denom, value=-step_size)
        if weight_decay > 0.0:
            p.add_(p, alpha=-lr * weight_decay)  # decoupled decay, after the Adam update


def adamw_fixture():
    g = torch.Generator().manual_seed(7)
    shapes = [(3, 5), (17,), (2, 3, 4), (1,)]
    steps, base_lr, total = 5, 1e-3, 8
    params = [torch.randn(*s, generator=g) * 0.1 for s in shapes]
    tensors = {f'param{k}_initial': p.clone() for k, p in enumerate(params)}
    exp_avgs = [torch.zeros_like(p) for p in params]
    exp_avg_sqs = [torch.zeros_like(p) for p in params]
    lrs = []
    for t in range(steps):
        # CosineAnnealingLR over `total` iterations, read before its t-th step.
        lr = base_lr * (1 + math.cos(math.pi * t / total)) / 2
        lrs.append(lr)
        grads = [torch.randn(*s, generator=g) * 10.0 ** (k - 2) for k, s in enumerate(shapes)]
        for k, grad in enumerate(grads):
            tensors[f'grad{k}_step{t + 1}'] = grad
        hf_adamw_step(params, grads, exp_avgs, exp_avg_sqs, lr, (0.9, 0.98), 1e-8, 0.01, t + 1)
    for k in range(len(shapes)):
        tensors[f'param{k}_final'] = params[k]
        tensors[f'exp_avg{k}_final'] = exp_avgs[k]
        tensors[f'exp_avg_sq{k}_final'] = exp_avg_sqs[k]
    write_fixture('adamw_hf', tensors, meta={
        'tensors': len(shapes), 'steps': steps, 'lrs': lrs, 'beta1': 0.9, 'beta2': 0.98, 'eps': 1e-8,
        'weight_decay': 0.01,
        'note': 'transformers.optimization.AdamW update written out in torch (transformers not installed)',
    })


if __name__ == '__main__':
    torch.manual_seed(0)
    losses_fixture('losses_small', 8, 16, [0, 0, 1, 2, 2, 2, 3, 4], 0.1, 2.0, 1.0, 1.0, noise=0.15, seed=1)
    losses_fixture('losses_gamma3', 12, 8, [5, 1, 5, 5, 2, 9, 1, 7, 7, 3, 4, 0], 0.2, 3.0, 0.5, 2.0,
                   noise=0.25, seed=2)
    # A training-like batch: several captions of the same image, ids drawn from 40 images.
    ids = torch.randint(0, 40, (64,), generator=torch.Generator().manual_seed(3)).tolist()
    losses_fixture('losses_n64', 64, 64, ids, 0.1, 2.0, 1.0, 1.0, noise=0.25, seed=4)
    adamw_fixture()
