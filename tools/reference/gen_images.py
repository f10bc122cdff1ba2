"""Parity fixtures for the image pipeline (issue 6, spec section 7).

References, computed by the libraries the authors' code runs on (Debian bookworm:
python3-pil 9.4, python3-torchvision 0.14, python3-opencv 4.6, numpy 1.24):
  resize_*     PIL Image.resize(BICUBIC) of the whole image and of a crop (Image.crop then
               resize, as torchvision's resized_crop does), and torchvision's test transform
               (Resize((S,S), BICUBIC), ToTensor, Normalize with CLIP's mean/std), and the
               train transform for fixed random draws (train_plan_*).
  decode       small JPEG (4:2:0 and 4:4:4), TIFF, palette PNG and grey+alpha PNG files written
               next to the fixtures, with PIL's Image.open(f).convert('RGB') of each.
  augment_*    the RandAugment ops of posapl_0_randaugment.py at M=7, each written out here
               with the same numpy/cv2 calls: Brightness/Sharpness factor 0.1 + 1.8*0.7 = 1.36,
               shear 0.21, translate 7 px, rotate 21 degrees, fill (128,128,128), and
               cv2.warpAffine(INTER_LINEAR, BORDER_CONSTANT) for a general matrix.
Images are uint8 (H,W,3) packed four bytes to an int32 (fixture_io has no uint8 type), their
shapes in meta['shapes']; every image here has H*W divisible by 4.

With --authors PATH/posapl_0_randaugment.py every augment reference is also checked equal to
the authors' own function (their file is read at generation time, never copied here).

Run: /usr/bin/python3 tools/reference/gen_images.py [--authors FILE]
"""
import argparse
import importlib.util
import os
import sys

import cv2
import numpy as np
import torch
from PIL import Image
from torchvision import transforms
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as TF

sys.path.insert(0, os.path.dirname(__file__))
from fixture_io import FIXTURE_DIR, write_fixture  # noqa: E402

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
M = 7
ENHANCE = (M / 10) * 1.8 + 0.1   # 1.36
SHEAR = (M / 10) * 0.3           # 0.21
TRANSLATE = (M / 10) * 10.0      # 7.0
ROTATE = (M / 10) * 30           # 21.0
FILL = (128, 128, 128)


def packed(images):
    """name -> uint8 image  =>  (tensors of packed int32, shapes for meta)."""
    tensors, shapes = {}, {}
    for name, img in images.items():
        img = np.ascontiguousarray(img, dtype=np.uint8)
        assert img.size % 4 == 0, name
        tensors[name] = img.reshape(-1).view('<i4')
        shapes[name] = list(img.shape)
    return tensors, shapes


def texture(h, w, seed):
    """Smooth colour fields, hard edges and noise: exercises every kernel tap and clipping."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 128 + 100 * np.sin(x / 5.0) * np.cos(y / 7.0)
    g = 60 + 1.5 * x + 2.0 * y
    b = np.where((x // 8 + y // 6) % 2 == 0, 235.0, 20.0)
    img = np.stack([r, g, b], axis=-1) + rng.normal(0, 12, (h, w, 3))
    img[h // 3, :, :] = 255   # a bright line: sharpening overshoots past 255
    img[:, w // 4, :] = 0     # a dark one: and below 0
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


# ---- RandAugment ops, as posapl_0_randaugment.py computes them (numpy/cv2) ----

def autocontrast(img):
    out = []
    for ch in cv2.split(img):
        high, low = ch.max(), ch.min()         # numpy uint8 scalars
        if high <= low:
            table = np.arange(256)
        else:
            scale = 255 / (high - low)
            with np.errstate(over='ignore'):
                offset = -low * scale          # -low wraps in uint8: 256 - low when low > 0
            table = np.arange(256) * scale + offset
            table[table < 0] = 0
            table[table > 255] = 255
        out.append(table.clip(0, 255).astype(np.uint8)[ch])
    return cv2.merge(out)


def equalize(img):
    out = []
    for ch in cv2.split(img):
        hist = cv2.calcHist([ch], [0], None, [256], [0, 256])
        nonzero = hist[hist != 0].reshape(-1)
        step = np.sum(nonzero[:-1]) // 255
        if step == 0:
            out.append(ch)
            continue
        n = np.empty_like(hist)
        n[0] = step // 2
        n[1:] = hist[:-1]
        out.append((np.cumsum(n) // step).clip(0, 255).astype(np.uint8)[ch])
    return cv2.merge(out)


def brightness(img, factor):
    return (np.arange(256, dtype=np.float32) * factor).clip(0, 255).astype(np.uint8)[img]


def sharpness(img, factor):
    kernel = np.ones((3, 3), dtype=np.float32)
    kernel[1][1] = 5
    kernel /= 13
    smooth = cv2.filter2D(img, -1, kernel)
    if factor == 0.0:
        return smooth
    if factor == 1.0:
        return img
    out = img.astype(np.float32)
    inner = smooth.astype(np.float32)[1:-1, 1:-1, :]
    out[1:-1, 1:-1, :] = inner + factor * (out[1:-1, 1:-1, :] - inner)
    with np.errstate(invalid='ignore'):
        return out.astype(np.uint8)             # no clipping: out-of-range values wrap


def warp(img, matrix):
    h, w = img.shape[:2]
    return cv2.warpAffine(img, matrix, (w, h), borderValue=FILL, flags=cv2.INTER_LINEAR)


def shear_x(img, f):
    return warp(img, np.float32([[1, f, 0], [0, 1, 0]]))


def shear_y(img, f):
    return warp(img, np.float32([[1, 0, 0], [f, 1, 0]]))


def translate_x(img, offset):
    return warp(img, np.float32([[1, 0, -offset], [0, 1, 0]]))


def translate_y(img, offset):
    return warp(img, np.float32([[1, 0, 0], [0, 1, -offset]]))


def rotate(img, degrees):
    h, w = img.shape[:2]
    return warp(img, cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1))


def augment_cases(img):
    """(name, output, authors' function name, authors' args) for every op and sign."""
    return [
        ('identity', img.copy(), 'Identity', ()),
        ('autocontrast', autocontrast(img), 'AutoContrast', ()),
        ('equalize', equalize(img), 'Equalize', ()),
        ('brightness', brightness(img, ENHANCE), 'Brightness', (ENHANCE,)),
        ('sharpness', sharpness(img, ENHANCE), 'Sharpness', (ENHANCE,)),
        ('sharpness_0', sharpness(img, 0.0), 'Sharpness', (0.0,)),
        ('sharpness_half', sharpness(img, 0.5), 'Sharpness', (0.5,)),
        ('shear_x', shear_x(img, SHEAR), 'ShearX', (SHEAR, FILL)),
        ('shear_x_neg', shear_x(img, -SHEAR), 'ShearX', (-SHEAR, FILL)),
        ('shear_y', shear_y(img, SHEAR), 'ShearY', (SHEAR, FILL)),
        ('shear_y_neg', shear_y(img, -SHEAR), 'ShearY', (-SHEAR, FILL)),
        ('translate_x', translate_x(img, TRANSLATE), 'TranslateX', (TRANSLATE, FILL)),
        ('translate_x_neg', translate_x(img, -TRANSLATE), 'TranslateX', (-TRANSLATE, FILL)),
        ('translate_y', translate_y(img, TRANSLATE), 'TranslateY', (TRANSLATE, FILL)),
        ('translate_y_neg', translate_y(img, -TRANSLATE), 'TranslateY', (-TRANSLATE, FILL)),
        ('rotate', rotate(img, ROTATE), 'Rotate', (ROTATE, FILL)),
        ('rotate_neg', rotate(img, -ROTATE), 'Rotate', (-ROTATE, FILL)),
    ]


def check_against_authors(path, img, cases):
    spec = importlib.util.spec_from_file_location('authors_randaugment', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, out, op, args in cases:
        theirs = module.func_dict[op](img.copy(), *args)
        if not np.array_equal(out, theirs):
            raise SystemExit(f'{name}: differs from the authors\' {op} at {np.argwhere(out != theirs)[:3].tolist()}')
    print(f'all {len(cases)} augment references equal the authors\' functions')


def augment_fixtures(authors):
    # Channel minima: R reaches 0, G starts above 0 (AutoContrast's uint8 wrap), B is constant.
    img = texture(32, 40, seed=1)
    img[..., 1] = np.maximum(img[..., 1], 17)
    contrast = img.copy()
    contrast[..., 2] = 90
    cases = augment_cases(img)
    if authors:
        check_against_authors(authors, img, cases)
        check_against_authors(authors, contrast, [('autocontrast', autocontrast(contrast), 'AutoContrast', ())])
    images = {'input': img, 'autocontrast_input': contrast, 'autocontrast_constant': autocontrast(contrast)}
    images.update({name: out for name, out, _, _ in cases})
    tensors, shapes = packed(images)
    write_fixture('images/augment', tensors, meta={
        'shapes': shapes, 'enhance': ENHANCE, 'shear': SHEAR, 'translate': TRANSLATE, 'rotate': ROTATE, 'fill': 128})

    # A general affine map (rotation 33 deg about an off-centre point, scale 1.25, shift) and a
    # wide grey image, for the warp kernel alone.
    general = cv2.getRotationMatrix2D((13.5, 20.25), 33.0, 1.25)
    general[0, 2] += 3.7
    wide = texture(24, 57, seed=2)
    affine = np.float32([[1, 0.37, -4], [0.11, 0.9, 2.5]])
    # Matrices go in meta: JSON keeps their float64 values, the tensors would round them to float32.
    tensors, shapes = packed({'input': wide, 'output': warp(wide, general), 'affine_output': warp(wide, affine)})
    write_fixture('images/warp', tensors, meta={'shapes': shapes, 'fill': 128, 'matrix': general.reshape(-1).tolist(),
             'affine_matrix': affine.astype(np.float64).reshape(-1).tolist()})


def pil_resize(img, size_wh, box=None):
    """torchvision's PIL path: crop (top, left, height, width) then Image.resize BICUBIC."""
    im = Image.fromarray(img)
    if box is not None:
        top, left, height, width = box
        im = TF.resized_crop(im, top, left, height, width, [size_wh[1], size_wh[0]],
                             interpolation=InterpolationMode.BICUBIC)
        return np.asarray(im)
    return np.asarray(im.resize(size_wh, Image.BICUBIC))


def resize_fixtures():
    img = texture(40, 52, seed=3)
    images = {'input': img}
    # (name, (out_w, out_h), crop box (top, left, h, w) or None)
    cases = [
        ('down', (24, 20), None),          # 52x40 -> 24x20: both passes antialiased
        ('up', (70, 60), None),            # upscaling: support 2
        ('vertical', (52, 33), None),      # the width is kept: no horizontal pass in PIL
        ('crop_down', (17, 28), (5, 7, 24, 31)),
        ('crop_up', (40, 40), (11, 19, 27, 33)),
        ('crop_same', (31, 24), (5, 7, 24, 31)),   # crop at its own size: a plain copy
        ('crop_edge', (20, 16), (0, 21, 40, 31)),  # the box touches the image's right and bottom
    ]
    boxes = {}
    for name, size, box in cases:
        images[name] = pil_resize(img, size, box)
        boxes[name] = {'size': list(size), 'box': list(box) if box else None}

    # The authors' test transform at S=24: Resize((S,S), BICUBIC), ToTensor, Normalize.
    test_transform = transforms.Compose([
        transforms.Resize((24, 24), interpolation=InterpolationMode.BICUBIC),
        transforms.ToTensor(), transforms.Normalize(CLIP_MEAN, CLIP_STD)])
    tensors, shapes = packed(images)
    tensors['test_transform'] = test_transform(Image.fromarray(img))

    # The train transform with its random draws fixed: resized_crop, hflip, the augment ops in
    # order on the numpy array, ToTensor, Normalize (the order of the authors' Compose).
    ops = {'Rotate': rotate, 'Sharpness': sharpness, 'Equalize': equalize, 'TranslateY': translate_y}
    plans = [
        {'box': [3, 5, 30, 41], 'flip': True, 'steps': [['Rotate', -ROTATE], ['Sharpness', ENHANCE]]},
        {'box': [0, 9, 40, 37], 'flip': False, 'steps': [['Equalize', 0.0], ['TranslateY', -TRANSLATE]]},
    ]
    for k, plan in enumerate(plans):
        top, left, height, width = plan['box']
        im = TF.resized_crop(Image.fromarray(img), top, left, height, width, [24, 24],
                             interpolation=InterpolationMode.BICUBIC)
        if plan['flip']:
            im = TF.hflip(im)
        arr = np.array(im)
        for op, magnitude in plan['steps']:
            arr = ops[op](arr) if op == 'Equalize' else ops[op](arr, magnitude)
        tensors[f'train_plan_{k}'] = transforms.Normalize(CLIP_MEAN, CLIP_STD)(transforms.ToTensor()(arr))
    write_fixture('images/resize', tensors, meta={'shapes': shapes, 'cases': boxes, 'test_size': 24,
                                                  'train_plans': plans})


def decode_fixtures():
    """Small files in the formats the datasets ship, and PIL's Image.open(f).convert('RGB') of each."""
    folder = os.path.join(FIXTURE_DIR, 'images')
    img = texture(24, 30, seed=4)
    files = {
        'jpeg_420.jpg': lambda f: Image.fromarray(img).save(f, quality=90),                 # RSICD-like
        'jpeg_444.jpg': lambda f: Image.fromarray(img).save(f, quality=95, subsampling=0),
        'rgb.tif': lambda f: Image.fromarray(img).save(f),                                   # RSITMD-like
        'palette.png': lambda f: Image.fromarray(img).quantize(colors=37).save(f),
        'grey_alpha.png': lambda f: Image.fromarray(img).convert('LA').save(f),
    }
    images = {}
    for name, save in files.items():
        path = os.path.join(folder, name)
        save(path)
        images[name] = np.asarray(Image.open(path).convert('RGB'))
    tensors, shapes = packed(images)
    write_fixture('images/decode', tensors, meta={'shapes': shapes})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--authors', help="the authors' posapl_0_randaugment.py, to check the references against")
    args = parser.parse_args()
    torch.set_num_threads(1)
    os.makedirs(os.path.join(FIXTURE_DIR, 'images'), exist_ok=True)
    resize_fixtures()
    augment_fixtures(args.authors)
    decode_fixtures()


if __name__ == '__main__':
    main()
