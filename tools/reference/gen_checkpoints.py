"""Checkpoint fixtures for the src/io tests, written by Debian's torch 1.13, and torch's verdict
on the files our TypeScript writers produce.

    /usr/bin/python3 tools/reference/gen_checkpoints.py             # fixtures + round-trip check
    /usr/bin/python3 tools/reference/gen_checkpoints.py --vit-b-32 PATH
        # a ~600 MB open_clip ViT-B/32-shaped float32 checkpoint (random values), for bench/checkpoint.js

Writes test/fixtures/checkpoints/: small .pt/.bin/.safetensors files (dtypes, views, shared
storages, wrapped and prefixed dicts, tiny open_clip and POSAPL models, refused and broken
files), expected.json (what loading each must give), and roundtrip/: files written by
lib/io (compiled with tsc, run with node) that torch.load(weights_only=True) then reads back;
the verdicts go into expected.json under "roundTrips".
"""
import hashlib
import json
import math
import os
import subprocess
import sys
import zipfile
from collections import OrderedDict

import numpy as np
import torch
from torch import nn

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'checkpoints')
ROUNDTRIP = os.path.join(OUT, 'roundtrip')

DTYPE_NAMES = {
    torch.float32: 'float32', torch.float64: 'float64', torch.float16: 'float16', torch.bfloat16: 'bfloat16',
    torch.int64: 'int64', torch.int32: 'int32', torch.int16: 'int16', torch.int8: 'int8',
    torch.uint8: 'uint8', torch.bool: 'bool',
}
SAFETENSORS_CODES = {
    torch.float32: 'F32', torch.float64: 'F64', torch.float16: 'F16', torch.bfloat16: 'BF16', torch.int64: 'I64',
    torch.int32: 'I32', torch.int16: 'I16', torch.int8: 'I8', torch.uint8: 'U8', torch.bool: 'BOOL',
}
SAFETENSORS_DTYPES = {code: dtype for dtype, code in SAFETENSORS_CODES.items()}
# Same-width integer types, to compare and serialise tensors bit for bit (NaN payloads included).
BITS_OF = {2: torch.int16, 4: torch.int32, 8: torch.int64, 1: torch.uint8}


# ---------------------------------------------------------------------------------------------
# Tiny models whose state_dict() has open_clip's and the POSAPL authors' names (spec section 10).

class Block(nn.Module):
    def __init__(self, width, heads, adapter=None, adapter2=None):
        super().__init__()
        self.ln_1 = nn.LayerNorm(width)
        self.attn = nn.MultiheadAttention(width, heads)
        self.ln_2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(OrderedDict([
            ('c_fc', nn.Linear(width, 4 * width)), ('gelu', nn.GELU()), ('c_proj', nn.Linear(4 * width, width))]))
        # The authors register each block's adapters a second time here: same tensors, second names.
        if adapter is not None:
            self.adapter = adapter
        if adapter2 is not None:
            self.adapter2 = adapter2


class Transformer(nn.Module):
    def __init__(self, width, layers, heads, adapters=None, adapters2=None):
        super().__init__()
        self.resblocks = nn.ModuleList([
            Block(width, heads, adapters[i] if adapters else None, adapters2[i] if adapters2 else None)
            for i in range(layers)])


class SaAdapter(nn.Module):
    def __init__(self, width, down):
        super().__init__()
        self.l1 = nn.Linear(width, down)
        self.l2 = nn.Linear(down, width)
        self.msa = nn.MultiheadAttention(down, 8)


class MlpAdapter(nn.Module):
    def __init__(self, width, down):
        super().__init__()
        self.l1 = nn.Linear(width, down)
        self.l2 = nn.Linear(down, width)


class TokenMean(nn.Module):
    pass


def side_fusion(width, vision):
    def tail():
        return [TokenMean()] if vision else []
    return nn.ModuleDict({
        'adapter_1': nn.Sequential(nn.Linear(width, width), nn.ReLU(), *tail()),
        'adapter_2': nn.Sequential(nn.Linear(width, width), nn.ReLU(), *tail()),
        'adapter_3': nn.Sequential(nn.Linear(width, width), nn.ReLU(), *tail()),
        'adapter_4': nn.Sequential(TokenMean(), nn.Linear(width, width)) if vision else nn.Sequential(nn.Linear(width, width)),
    })


class Visual(nn.Module):
    def __init__(self, cfg, embed, adapters=None, posapl=False):
        super().__init__()
        w, p = cfg['width'], cfg['patch_size']
        grid = cfg['image_size'] // p
        self.class_embedding = nn.Parameter(torch.randn(w))
        self.positional_embedding = nn.Parameter(torch.randn(grid * grid + 1, w))
        self.proj = nn.Parameter(torch.randn(w, embed))
        self.conv1 = nn.Conv2d(3, w, kernel_size=p, stride=p, bias=False)
        self.ln_pre = nn.LayerNorm(w)
        self.transformer = Transformer(w, cfg['layers'], max(1, w // 64), adapters)
        self.ln_post = nn.LayerNorm(w)
        if posapl and cfg['layers'] >= 7:
            self.adapter = side_fusion(w, vision=True)


class Text(nn.Module):
    def __init__(self, cfg, embed, adapters, adapters2):
        super().__init__()
        w = cfg['width']
        self.positional_embedding = nn.Parameter(torch.randn(cfg['context_length'], w))
        self.text_projection = nn.Parameter(torch.randn(w, embed))
        self.token_embedding = nn.Embedding(cfg['vocab_size'], w)
        self.transformer = Transformer(w, cfg['layers'], cfg['heads'], adapters, adapters2)
        self.ln_final = nn.LayerNorm(w)
        if cfg['layers'] >= 7:
            self.adapter = side_fusion(w, vision=False)
        self.adapter_mlp = MlpAdapter(w, w)


class OpenClip(nn.Module):
    """open_clip's CLIP: text tower at the top level."""

    def __init__(self, cfg):
        super().__init__()
        t = cfg['text_cfg']
        self.positional_embedding = nn.Parameter(torch.randn(t['context_length'], t['width']))
        self.text_projection = nn.Parameter(torch.randn(t['width'], cfg['embed_dim']))
        self.logit_scale = nn.Parameter(torch.tensor(math.log(100.0)))
        self.visual = Visual(cfg['vision_cfg'], cfg['embed_dim'])
        self.transformer = Transformer(t['width'], t['layers'], t['heads'])
        self.token_embedding = nn.Embedding(t['vocab_size'], t['width'])
        self.ln_final = nn.LayerNorm(t['width'])


class Posapl(nn.Module):
    def __init__(self, cfg, down, down_pos, pos_side):
        super().__init__()
        v, t = cfg['vision_cfg'], cfg['text_cfg']
        self.logit_scale = nn.Parameter(torch.tensor(math.log(100.0)))
        self.adapter_img = nn.ModuleList([SaAdapter(v['width'], down) for _ in range(v['layers'])])
        self.adapter_text = nn.ModuleList([SaAdapter(t['width'], down) for _ in range(t['layers'])])
        self.adapter_pos = nn.ModuleList([MlpAdapter(t['width'], down_pos) for _ in range(t['layers'])]) if pos_side else None
        self.visual = Visual(v, cfg['embed_dim'], self.adapter_img, posapl=True)
        self.text = Text(t, cfg['embed_dim'], self.adapter_text, self.adapter_pos)


class AuthorsWrapper(nn.Module):
    """The authors' training wrapper holds the model as `self.model`: every name gets `model.`."""

    def __init__(self, model):
        super().__init__()
        self.model = model


# Seven layers per tower is the least that has Side Fusion; widths are as small as the heads allow.
POSAPL_TINY = {
    'config': {'embed_dim': 3,
               'vision_cfg': {'image_size': 4, 'layers': 7, 'width': 4, 'patch_size': 2},
               'text_cfg': {'context_length': 3, 'vocab_size': 5, 'width': 4, 'heads': 2, 'layers': 7}},
    'adapterWidth': 8, 'posAdapterWidth': 2, 'posSide': True,
}
OPENCLIP_TINY = {'embed_dim': 3,
                 'vision_cfg': {'image_size': 4, 'layers': 2, 'width': 4, 'patch_size': 2},
                 'text_cfg': {'context_length': 3, 'vocab_size': 5, 'width': 4, 'heads': 2, 'layers': 2}}


def randomize(module, seed):
    """Distinct random values everywhere (zero-initialised layers included), so any mix-up shows."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    return module


# ---------------------------------------------------------------------------------------------
# Expected values

def flat_values(t):
    """Values as JSON: floats (strings for non-finite), int64 as decimal strings."""
    flat = t.reshape(-1)
    if t.dtype == torch.int64:
        return [str(v) for v in flat.tolist()]
    if t.dtype == torch.bool:
        return [int(v) for v in flat.tolist()]
    if t.dtype.is_floating_point:
        return [v if math.isfinite(v) else str(v) for v in flat.double().tolist()]
    return flat.tolist()


def expect_full(t):
    t = t.detach().contiguous()
    e = {'dtype': DTYPE_NAMES[t.dtype], 'shape': list(t.shape), 'values': flat_values(t)}
    if t.dtype in (torch.float16, torch.bfloat16):
        e['bits'] = [v & 0xffff for v in t.view(torch.int16).reshape(-1).tolist()]
    return e


def expect_dict(d):
    return OrderedDict((k, expect_full(v)) for k, v in d.items())


def expect_sums(d):
    """For the tiny models, whose names and shapes the tests derive themselves: the number of
    names and each tensor's exact sum, in file order (a compact check of every value's place)."""
    return {'count': len(d), 'sums': [math.fsum(t.detach().reshape(-1).double().tolist()) for t in d.values()]}


# ---------------------------------------------------------------------------------------------
# Fixtures

def basic_dict():
    torch.manual_seed(0)
    d = OrderedDict()
    d['f32'] = torch.randn(2, 3)
    d['f64'] = torch.randn(3, dtype=torch.float64)
    inf, nan = float('inf'), float('nan')
    d['f16'] = torch.tensor([0.0, -0.0, 1.0, -2.5, 65504.0, 6e-8, 1e-5, inf, -inf, nan, 0.333], dtype=torch.float16)
    d['bf16'] = torch.tensor([0.0, -0.0, 1.0, -2.5, 3.0e38, 1e-39, inf, -inf, nan, 0.333], dtype=torch.bfloat16)
    d['i64'] = torch.tensor([0, -1, 2 ** 53 + 1, -(2 ** 62), 2 ** 63 - 1], dtype=torch.int64)
    d['i32'] = torch.tensor([-2 ** 31, 2 ** 31 - 1, 7], dtype=torch.int32)
    d['i16'] = torch.tensor([-32768, 32767, -5], dtype=torch.int16)
    d['i8'] = torch.tensor([-128, 127, 3], dtype=torch.int8)
    d['u8'] = torch.tensor([0, 255, 9], dtype=torch.uint8)
    d['bool'] = torch.tensor([True, False, True])
    d['scalar'] = torch.tensor(4.6052)
    d['empty'] = torch.zeros(0, 3)
    d['param'] = nn.Parameter(torch.randn(2, 2))
    return d


def views_dict():
    base = torch.arange(24, dtype=torch.float32).view(4, 6)
    d = OrderedDict()
    d['base'] = base
    d['transposed'] = base.t()
    d['sliced'] = base[1:3, 2:5]
    d['strided'] = base[:, ::2]
    d['column'] = base[:, 1]
    d['element'] = base[2, 3]
    d['permuted'] = torch.arange(24, dtype=torch.float32).view(2, 3, 4).permute(2, 0, 1)
    d['f16_transposed'] = torch.arange(6, dtype=torch.float16).view(2, 3).t()
    d['i64_sliced'] = torch.arange(10, dtype=torch.int64)[3:7]
    return d


def shared_dict():
    torch.manual_seed(1)
    w = torch.randn(3, 4)
    flat = torch.randn(10)
    d = OrderedDict()
    d['encoder.weight'] = w
    d['decoder.weight'] = w  # tied: one tensor under two names
    d['first_half'] = flat[:5]
    d['second_half'] = flat[5:]  # a second tensor in the same storage
    return d


class EvilSystem:
    def __reduce__(self):
        return (os.system, ('echo pwned > /tmp/posapl-pwned',))


class EvilEval:
    def __reduce__(self):
        return (eval, ("__import__('os').system('echo pwned > /tmp/posapl-pwned')",))


def write_safetensors(path, tensors, metadata):
    """The safetensors format, by its spec: u64 header length, JSON header, raw little-endian data."""
    header, chunks, offset = OrderedDict(), [], 0
    header['__metadata__'] = metadata
    for name, t in tensors.items():
        raw = t.contiguous().view(BITS_OF[t.element_size()]).numpy().tobytes() if t.dtype != torch.bool \
            else t.numpy().astype(np.uint8).tobytes()
        header[name] = {'dtype': SAFETENSORS_CODES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * ((8 - len(text) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(len(text).to_bytes(8, 'little'))
        f.write(text)
        for c in chunks:
            f.write(c)


def read_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    n = int.from_bytes(data[:8], 'little')
    header = json.loads(data[8:8 + n])
    metadata = header.pop('__metadata__', {})
    out = OrderedDict()
    for name, info in header.items():
        begin, end = info['data_offsets']
        dtype = SAFETENSORS_DTYPES[info['dtype']]
        raw = bytearray(data[8 + n + begin:8 + n + end])
        if dtype == torch.bool:
            t = torch.tensor(list(raw), dtype=torch.uint8).bool()
        else:
            t = torch.frombuffer(raw, dtype=BITS_OF[torch.empty(0, dtype=dtype).element_size()]).view(dtype) \
                if raw else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info['shape'])
    return out, metadata


def fixed_time(name, compress_type=zipfile.ZIP_STORED):
    """A zip member with a fixed timestamp, so regenerating gives identical bytes."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = compress_type
    return info


def big_endian_copy(src, dst, tensors):
    """`src` (a torch zip with one storage per tensor, keys in order) rewritten big-endian, with a byteorder record."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, 'w') as zout:
        prefix = zin.namelist()[0].split('/')[0]
        for info in zin.infolist():
            data = zin.read(info)
            rel = info.filename[len(prefix) + 1:]
            if rel.startswith('data/'):
                t = list(tensors.values())[int(rel[5:])].contiguous()
                data = t.view(BITS_OF[t.element_size()]).numpy().byteswap().tobytes() if t.element_size() > 1 \
                    else t.numpy().tobytes()
            zout.writestr(fixed_time(info.filename), data)
        zout.writestr(fixed_time(prefix + '/byteorder'), 'big')


def deflated_copy(src, dst):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, 'w') as zout:
        for info in zin.infolist():
            zout.writestr(fixed_time(info.filename, zipfile.ZIP_DEFLATED), zin.read(info))


def save(obj, name, **kwargs):
    path = os.path.join(OUT, name)
    torch.save(obj, path, **kwargs)
    return path


def generate():
    os.makedirs(ROUNDTRIP, exist_ok=True)
    files, errors = OrderedDict(), OrderedDict()

    basic = basic_dict()
    save(basic, 'basic.pt')
    files['basic.pt'] = expect_dict(basic)
    save(basic, 'basic_proto4.pt', pickle_protocol=4)
    files['basic_proto4.pt'] = files['basic.pt']
    deflated_copy(os.path.join(OUT, 'basic.pt'), os.path.join(OUT, 'basic_deflated.pt'))
    files['basic_deflated.pt'] = files['basic.pt']
    write_safetensors(os.path.join(OUT, 'basic.safetensors'), basic, {'format': 'pt'})
    files['basic.safetensors'] = files['basic.pt']

    small = OrderedDict((k, basic[k]) for k in ['f32', 'f64', 'f16', 'i64', 'i32', 'u8', 'scalar'])
    save(small, 'small_for_bigendian.tmp')
    big_endian_copy(os.path.join(OUT, 'small_for_bigendian.tmp'), os.path.join(OUT, 'bigendian.pt'), small)
    os.remove(os.path.join(OUT, 'small_for_bigendian.tmp'))
    files['bigendian.pt'] = expect_dict(small)

    views = views_dict()
    save(views, 'views.pt')
    files['views.pt'] = expect_dict(views)

    shared = shared_dict()
    save(shared, 'shared.pt')
    files['shared.pt'] = expect_dict(shared)

    torch.manual_seed(2)
    inner = OrderedDict([('module.layer.weight', torch.randn(2, 3)), ('module.layer.bias', torch.randn(2))])
    sgd = torch.optim.SGD([nn.Parameter(torch.randn(2))], lr=0.1, momentum=0.9)
    sgd.param_groups[0]['params'][0].grad = torch.ones(2)
    sgd.step()
    save({'epoch': 3, 'best': 0.5, 'name': 'run', 'flags': (True, None, [1, 2.5]), 'state_dict': inner,
          'optimizer': sgd.state_dict()}, 'wrapped_state_dict.pt')
    files['wrapped_state_dict.pt'] = expect_dict(OrderedDict((k[len('module.'):], v) for k, v in inner.items()))
    save({'model': OrderedDict([('model.w', torch.arange(3.0))]), 'step': 7}, 'wrapped_model.pt')
    files['wrapped_model.pt'] = expect_dict(OrderedDict([('w', torch.arange(3.0))]))

    posapl = randomize(Posapl(POSAPL_TINY['config'], POSAPL_TINY['adapterWidth'], POSAPL_TINY['posAdapterWidth'],
                              POSAPL_TINY['posSide']), 3)
    authors = AuthorsWrapper(posapl).state_dict()
    save(authors, 'posapl_tiny.pt')
    files['posapl_tiny.pt'] = expect_sums(authors)

    openclip = randomize(OpenClip(OPENCLIP_TINY), 4).state_dict()
    save(openclip, 'openclip_tiny.bin')
    files['openclip_tiny.bin'] = expect_sums(openclip)

    save({'weight': torch.zeros(2), 'payload': EvilSystem()}, 'malicious_system.pt')
    errors['malicious_system.pt'] = {'code': 'POSAPL_PICKLE', 'mentions': 'posix.system'}
    save({'weight': torch.zeros(2), 'payload': EvilEval()}, 'malicious_eval.pt')
    errors['malicious_eval.pt'] = {'code': 'POSAPL_PICKLE', 'mentions': 'builtins.eval'}
    save({'weight': torch.zeros(1).expand(4)}, 'broadcast.pt')
    errors['broadcast.pt'] = {'code': 'POSAPL_TENSOR', 'mentions': 'weight'}
    with open(os.path.join(OUT, 'basic.pt'), 'rb') as f:
        whole = f.read()
    with open(os.path.join(OUT, 'truncated.pt'), 'wb') as f:
        f.write(whole[:len(whole) // 2])
    errors['truncated.pt'] = {'code': 'POSAPL_FORMAT', 'mentions': 'truncated'}

    return files, errors


# ---------------------------------------------------------------------------------------------
# Round trips: lib/io writes, torch reads

ROUND_TRIPS = [
    {'source': 'basic.pt', 'written': 'roundtrip/basic.torch.pt', 'format': 'torch', 'zip64': 'auto'},
    {'source': 'basic.pt', 'written': 'roundtrip/basic.safetensors', 'format': 'safetensors', 'zip64': 'auto'},
    {'source': 'views.pt', 'written': 'roundtrip/views.torch.pt', 'format': 'torch', 'zip64': 'auto'},
    {'source': 'shared.pt', 'written': 'roundtrip/shared.torch.pt', 'format': 'torch', 'zip64': 'auto'},
    {'source': 'shared.pt', 'written': 'roundtrip/shared.zip64.pt', 'format': 'torch', 'zip64': 'always'},
]

NODE_WRITER = r"""
const io = require(process.argv[1]);
const jobs = JSON.parse(process.argv[2]);
(async () => {
  for (const j of jobs) {
    const stateDict = await io.loadStateDict(j.source);
    await io.saveStateDict(j.written, stateDict, { format: j.format, zip64: j.zip64 });
  }
})().catch((e) => { console.error(e); process.exit(1); });
"""


def same_bits(a, b):
    a, b = a.detach().contiguous(), b.detach().contiguous()
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype == torch.bool or a.element_size() == 1:
        return torch.equal(a, b)
    return torch.equal(a.view(BITS_OF[a.element_size()]), b.view(BITS_OF[b.element_size()]))


def tied_names(d):
    """Pairs of names bound to the same tensor object."""
    seen, pairs = {}, []
    for name, t in d.items():
        if id(t) in seen:
            pairs.append([seen[id(t)], name])
        else:
            seen[id(t)] = name
    return pairs


def verify_round_trips():
    subprocess.run(['npx', 'tsc', '-p', 'tsconfig.json'], cwd=ROOT, check=False)
    lib = os.path.join(ROOT, 'lib', 'io', 'index.js')
    if not os.path.exists(lib):
        sys.exit('tsc produced no lib/io/index.js: fix the build first')
    jobs = [dict(j, source=os.path.join(OUT, j['source']), written=os.path.join(OUT, j['written'])) for j in ROUND_TRIPS]
    subprocess.run(['node', '-e', NODE_WRITER, lib, json.dumps(jobs)], cwd=ROOT, check=True)
    records = []
    for job in ROUND_TRIPS:
        source = torch.load(os.path.join(OUT, job['source']), weights_only=True)
        path = os.path.join(OUT, job['written'])
        if job['format'] == 'torch':
            written = torch.load(path, weights_only=True)
            reader = f'torch {torch.__version__} torch.load(weights_only=True)'
            ties = tied_names(source)
            ties_kept = all(written[a].data_ptr() == written[b].data_ptr() for a, b in ties)
        else:
            written, metadata = read_safetensors(path)
            reader = 'gen_checkpoints.py read_safetensors (format spec)'
            ties, ties_kept = [], metadata == {'format': 'pt'}
        ok = (list(written.keys()) == list(source.keys())
              and all(same_bits(written[k], source[k]) for k in source)
              and ties_kept)
        with open(path, 'rb') as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        records.append(dict(job, sha256=digest, verifiedBy=reader, tensors=len(written), tiedPairs=ties, ok=ok))
        print(f"{job['written']}: {'ok' if ok else 'MISMATCH'} ({reader})")
    return records


def write_vit_b_32(path):
    """An open_clip ViT-B/32-shaped state dict (about 151M float32 values), random, saved by torch."""
    with open(os.path.join(ROOT, '..', 'shared', 'data', 'ViT-B-32.json')) as f:
        cfg = json.load(f)
    torch.manual_seed(0)
    model = OpenClip(cfg)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + '.tmp'
    torch.save(model.state_dict(), tmp)
    os.replace(tmp, path)
    print(f'wrote {path} ({os.path.getsize(path)} bytes, {sum(p.numel() for p in model.parameters())} values)')


def main():
    if len(sys.argv) == 3 and sys.argv[1] == '--vit-b-32':
        return write_vit_b_32(sys.argv[2])
    files, errors = generate()
    round_trips = verify_round_trips()
    expected = OrderedDict([
        ('generator', 'tools/reference/gen_checkpoints.py'),
        ('torch', torch.__version__),
        ('posaplTiny', POSAPL_TINY),
        ('openClipTiny', OPENCLIP_TINY),
        ('files', files),
        ('errors', errors),
        ('roundTrips', round_trips),
    ])
    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump(expected, f, separators=(',', ':'))
    total = sum(os.path.getsize(os.path.join(d, n)) for d, _, ns in os.walk(OUT) for n in ns)
    print(f'fixtures: {total} bytes in {OUT}')
    if not all(r['ok'] for r in round_trips):
        sys.exit('torch disagrees with a file our writer produced')


if __name__ == '__main__':
    main()
