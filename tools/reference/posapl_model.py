"""A PyTorch model of POSAPL written from ../shared/spec/POSAPL.md, used to make parity
fixtures and as the PyTorch peer in benchmarks. Module names follow the authors' state-dict
layout (spec section 10), so `state_dict()` has the same keys as their checkpoints, including
the per-block second names of the shared adapter tensors.

Config: open_clip's JSON shape plus a `posapl` block
  {embed_dim, vision_cfg: {image_size, patch_size, width, layers, head_width},
   text_cfg: {context_length, vocab_size, width, heads, layers},
   posapl: {down_dim, sa_heads, pos_side, down_dim_pos, side_fusion: 'chained'|'end-add',
            sa_image, sa_text, pos, side_fusion_image, side_fusion_text}}   (switches default True)
"""
import math

import torch
from torch import nn
import torch.nn.functional as F


def posapl_flags(cfg):
    p = dict(down_dim=128, sa_heads=8, pos_side=False, down_dim_pos=128, side_fusion='chained',
             sa_image=True, sa_text=True, pos=True, side_fusion_image=True, side_fusion_text=True)
    p.update(cfg.get('posapl', {}))
    return p


class LinearReluLinear(nn.Module):
    """Linear -> ReLU -> Linear (the POS connector and the per-layer POS adapters); l2 zero-init."""

    def __init__(self, width, hidden):
        super().__init__()
        self.l1 = nn.Linear(width, hidden)
        self.l2 = nn.Linear(hidden, width)
        nn.init.zeros_(self.l2.weight)
        nn.init.zeros_(self.l2.bias)

    def forward(self, x):
        return self.l2(F.relu(self.l1(x)))


class SelfAttentionAdapter(nn.Module):
    """down (l1) -> unmasked multi-head self-attention over the tokens + residual -> up (l2, zero-init)."""

    def __init__(self, width, heads, down):
        super().__init__()
        self.l1 = nn.Linear(width, down)
        self.l2 = nn.Linear(down, width)
        self.msa = nn.MultiheadAttention(down, heads)
        nn.init.zeros_(self.l2.weight)
        nn.init.zeros_(self.l2.bias)

    def forward(self, x):  # x (L, N, C): tokens first, as nn.MultiheadAttention expects
        y = self.l1(x)
        a = self.msa(y, y, y, need_weights=False)[0] + y
        return self.l2(a)


class Block(nn.Module):
    def __init__(self, width, heads, adapter=None, pos_adapter=None):
        super().__init__()
        self.ln_1 = nn.LayerNorm(width)
        self.attn = nn.MultiheadAttention(width, heads)
        self.ln_2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential()
        self.mlp.add_module('c_fc', nn.Linear(width, 4 * width))
        self.mlp.add_module('gelu', nn.GELU())
        self.mlp.add_module('c_proj', nn.Linear(4 * width, width))
        # Second names of the tensors held in the model-level ModuleLists.
        if adapter is not None:
            self.adapter = adapter
        if pos_adapter is not None:
            self.adapter2 = pos_adapter

    def forward(self, x, mask=None, p=None):  # x (L, N, C)
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, need_weights=False, attn_mask=mask)[0]
        if hasattr(self, 'adapter2') and p is not None:
            x = x + self.adapter2(p)
        m = self.mlp(self.ln_2(x))
        if hasattr(self, 'adapter'):
            m = m + self.adapter(m)
        return x + m


def tap_indices(layers):
    """Blocks whose outputs Side Fusion taps: L-7, L-5, L-3, L-1; none below 7 layers."""
    return [layers - 7, layers - 5, layers - 3, layers - 1] if layers >= 7 else []


class Trunk(nn.Module):
    def __init__(self, width, layers, heads, adapters=None, pos_adapters=None):
        super().__init__()
        self.resblocks = nn.ModuleList([
            Block(width, heads, adapters[i] if adapters is not None else None,
                  pos_adapters[i] if pos_adapters is not None else None) for i in range(layers)])
        self.taps = tap_indices(layers)

    def forward(self, x, mask=None, p=None):
        taps = []
        for i, block in enumerate(self.resblocks):
            x = block(x, mask, p)
            if i in self.taps:
                taps.append(x.permute(1, 0, 2))  # (N, L, C)
        return x, taps


class TokenMean(nn.Module):
    def forward(self, x):
        return x if x.dim() == 2 else x.mean(dim=1)


def side_fusion_modules(width, with_mean):
    """adapter_1..3: Linear+ReLU(+mean); adapter_4: (mean+)Linear, zero-init."""
    mods = {}
    for k in (1, 2, 3):
        seq = [nn.Linear(width, width), nn.ReLU()]
        if with_mean:
            seq.append(TokenMean())
        mods[f'adapter_{k}'] = nn.Sequential(*seq)
    last = nn.Linear(width, width)
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    mods['adapter_4'] = nn.Sequential(TokenMean(), last) if with_mean else nn.Sequential(last)
    return nn.ModuleDict(mods)


def side_fusion(mods, taps, end_add, with_mean):
    f1, f2, f3, f4 = taps
    grow = (lambda s: s.unsqueeze(1)) if with_mean else (lambda s: s)
    s1 = mods['adapter_1'](f1)
    if end_add:
        return mods['adapter_4'](s1 + mods['adapter_2'](f2) + mods['adapter_3'](f3))
    s2 = mods['adapter_2'](grow(s1) + f2)
    s3 = mods['adapter_3'](grow(s2) + f3)
    return mods['adapter_4'](grow(s3) + f4)


class VisionTower(nn.Module):
    def __init__(self, cfg, embed_dim, flags, adapters):
        super().__init__()
        w, ps = cfg['width'], cfg['patch_size']
        grid = cfg['image_size'] // ps
        self.conv1 = nn.Conv2d(3, w, kernel_size=ps, stride=ps, bias=False)
        self.class_embedding = nn.Parameter(torch.randn(w) * w ** -0.5)
        self.positional_embedding = nn.Parameter(torch.randn(grid * grid + 1, w) * w ** -0.5)
        self.ln_pre = nn.LayerNorm(w)
        self.transformer = Trunk(w, cfg['layers'], w // cfg['head_width'], adapters)
        self.ln_post = nn.LayerNorm(w)
        self.proj = nn.Parameter(torch.randn(w, embed_dim) * w ** -0.5)
        self.use_side = flags['side_fusion_image'] and cfg['layers'] >= 7
        self.end_add = flags['side_fusion'] == 'end-add'
        if self.use_side:
            self.adapter = side_fusion_modules(w, with_mean=True)

    def forward(self, pixels):
        x = self.conv1(pixels).flatten(2).permute(0, 2, 1)  # (N, G*G, C)
        cls = self.class_embedding.expand(x.shape[0], 1, -1)
        x = self.ln_pre(torch.cat([cls, x], dim=1) + self.positional_embedding)
        x, taps = self.transformer(x.permute(1, 0, 2))
        pooled = self.ln_post(x[0])
        if self.use_side:
            pooled = pooled + side_fusion(self.adapter, taps, self.end_add, with_mean=True)
        return pooled @ self.proj


class TextTower(nn.Module):
    def __init__(self, cfg, embed_dim, flags, adapters, pos_adapters):
        super().__init__()
        w, n = cfg['width'], cfg['context_length']
        self.token_embedding = nn.Embedding(cfg['vocab_size'], w)
        self.positional_embedding = nn.Parameter(torch.randn(n, w) * 0.01)
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        self.transformer = Trunk(w, cfg['layers'], cfg['heads'], adapters, pos_adapters)
        self.ln_final = nn.LayerNorm(w)
        self.text_projection = nn.Parameter(torch.randn(w, embed_dim) * w ** -0.5)
        self.register_buffer('attn_mask', torch.full((n, n), float('-inf')).triu_(1), persistent=False)
        self.use_side = flags['side_fusion_text'] and cfg['layers'] >= 7
        self.end_add = flags['side_fusion'] == 'end-add'
        if self.use_side:
            self.adapter = side_fusion_modules(w, with_mean=False)
        if flags['pos']:
            self.adapter_mlp = LinearReluLinear(w, w)

    def forward(self, ids, pos_ids=None):
        x = self.token_embedding(ids) + self.positional_embedding
        p = None
        if hasattr(self, 'adapter_mlp') and pos_ids is not None:
            p = self.adapter_mlp(self.token_embedding(pos_ids) + self.positional_embedding)
            x = x + p
            p = p.permute(1, 0, 2)
        x, taps = self.transformer(x.permute(1, 0, 2), self.attn_mask, p)
        x = self.ln_final(x.permute(1, 0, 2))
        if self.use_side:
            x = x + side_fusion(self.adapter, taps, self.end_add, with_mean=False)
        return x[torch.arange(x.shape[0]), ids.argmax(dim=-1)] @ self.text_projection


class Posapl(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        flags = posapl_flags(cfg)
        v, t = cfg['vision_cfg'], cfg['text_cfg']
        if flags['sa_image']:
            self.adapter_img = nn.ModuleList([
                SelfAttentionAdapter(v['width'], flags['sa_heads'], flags['down_dim']) for _ in range(v['layers'])])
        if flags['sa_text']:
            self.adapter_text = nn.ModuleList([
                SelfAttentionAdapter(t['width'], flags['sa_heads'], flags['down_dim']) for _ in range(t['layers'])])
        if flags['pos'] and flags['pos_side']:
            self.adapter_pos = nn.ModuleList([
                LinearReluLinear(t['width'], flags['down_dim_pos']) for _ in range(t['layers'])])
        self.visual = VisionTower(v, cfg['embed_dim'], flags, getattr(self, 'adapter_img', None))
        self.text = TextTower(t, cfg['embed_dim'], flags, getattr(self, 'adapter_text', None),
                              getattr(self, 'adapter_pos', None))
        self.logit_scale = nn.Parameter(torch.tensor(math.log(100.0)))

    def trainable(self):
        """(name, tensor) of every trainable parameter, once each (first name), in registration order."""
        return [(n, p) for n, p in self.named_parameters() if 'adapter' in n]

    def freeze_backbone(self):
        """Only the adapters take gradients (the backbone is frozen); returns trainable()."""
        trainable = self.trainable()
        for _, p in self.named_parameters():
            p.requires_grad_(False)
        for _, p in trainable:
            p.requires_grad_(True)
        return trainable

    def encode(self, pixels, ids, pos_ids):
        return F.normalize(self.visual(pixels), dim=-1), F.normalize(self.text(ids, pos_ids), dim=-1)


def contrastive_loss(img, txt, image_ids, logit_scale):
    logits = logit_scale * img @ txt.t()
    same = (image_ids.view(-1, 1) == image_ids.view(1, -1)).float()
    targets = same / same.sum(dim=1, keepdim=True)
    i2t = -(F.log_softmax(logits, dim=1) * targets).sum(dim=1).mean()
    t2i = -(F.log_softmax(logits.t(), dim=1) * targets).sum(dim=1).mean()
    return (i2t + t2i) / 2


def triplet_loss(img, txt, margin=0.1, gamma=2.0):
    s = img @ txt.t()
    d = s.diag()
    eye = torch.eye(s.shape[0], dtype=torch.bool)
    c_s = (margin + s - d.view(-1, 1)).clamp(min=0).masked_fill(eye, 0)
    c_im = (margin + s - d.view(1, -1)).clamp(min=0).masked_fill(eye, 0)
    return ((c_s ** gamma).sum() + (c_im ** gamma).sum()) / 2


class HfAdamW:
    """The AdamW of transformers.optimization (spec section 5): bias correction folded into the
    step size, weight decay applied after the update."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.98), eps=1e-8, weight_decay=0.01):
        self.params = list(params)
        self.lr, self.betas, self.eps, self.wd = lr, betas, eps, weight_decay
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.t = 0

    @torch.no_grad()
    def step(self, lr):
        self.t += 1
        b1, b2 = self.betas
        size = lr * math.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
        for p, m, v in zip(self.params, self.m, self.v):
            g = p.grad
            m.mul_(b1).add_(g, alpha=1 - b1)
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            p.addcdiv_(m, v.sqrt().add_(self.eps), value=-size)
            p.add_(p, alpha=-lr * self.wd)


def cosine_lr(base_lr, t, total):
    return base_lr * (1 + math.cos(math.pi * t / total)) / 2


def open_clip_state_dict(model):
    """The backbone in open_clip's layout: text tower at the top level, no adapters."""
    out = {}
    for name, tensor in model.state_dict().items():
        if 'adapter' in name:
            continue
        out[name[len('text.'):] if name.startswith('text.') else name] = tensor
    return out
