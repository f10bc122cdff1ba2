"""Writes test fixtures in the one format the jest helpers read (test/helpers/fixtures.ts):
a JSON file {"meta": {...}, "tensors": {name: {"shape": [...], "dtype": "float32"|"int32", "data": base64}}}
with little-endian raw data. Keep fixtures small: they are committed."""
import base64
import json
import os

import numpy as np

FIXTURE_DIR = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures')


def write_fixture(name, tensors, meta=None):
    """tensors: dict name -> torch tensor or numpy array (float -> float32, int -> int32)."""
    out = {'meta': meta or {}, 'tensors': {}}
    for key, value in tensors.items():
        arr = value.detach().cpu().numpy() if hasattr(value, 'detach') else np.asarray(value)
        if arr.dtype.kind == 'f':
            arr, dtype = arr.astype('<f4'), 'float32'
        elif arr.dtype.kind in 'iub':
            arr, dtype = arr.astype('<i4'), 'int32'
        else:
            raise TypeError(f'{name}.{key}: unsupported dtype {arr.dtype}')
        out['tensors'][key] = {
            'shape': list(arr.shape),
            'dtype': dtype,
            'data': base64.b64encode(np.ascontiguousarray(arr).tobytes()).decode('ascii'),
        }
    os.makedirs(FIXTURE_DIR, exist_ok=True)
    path = os.path.join(FIXTURE_DIR, name + '.json')
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(out, f, separators=(',', ':'))
    os.replace(tmp, path)
    print(f'wrote {os.path.relpath(path)} ({os.path.getsize(path)} bytes)')
