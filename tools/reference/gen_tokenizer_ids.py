"""Expected CLIP token ids for the tokenizer parity tests (test/unit/text/tokenizer*.test.ts).

Follows open_clip's SimpleTokenizer (src/open_clip/tokenizer.py, clean='lower', no reduction):
  ids = [SOT] + bpe(findall(pat, whitespace_clean(basic_clean(text)).lower())) + [EOT],
  zero padded to the context length, over-long rows cut with EOT kept in the last slot,
  basic_clean = ftfy.fix_text, html.unescape twice, strip.

Writes
  test/fixtures/tokenizer_rsitmd.json         meta: files, caption counts, sha256 of the captions
  test/fixtures/tokenizer_rsitmd_ids.bin.gz   for every caption of ../shared/data/rsitmd/{test,train,val}.json
                                              (entries in order, list captions flattened), two rows: the raw
                                              caption, then the caption after pre_caption (the authors'
                                              cleaning); a row is uint16 n followed by its n non-zero ids
                                              (SOT .. EOT, context 77), all little-endian uint16
  test/fixtures/tokenizer_cases.json          edge cases (unicode, accents, emoji, html, very long, empty)

Needs Debian's python3 (/usr/bin/python3) with python3-regex, and ftfy with wcwidth, which Debian does not
package: unpack their wheels (python3 -m zipfile -e WHEEL DIR) and pass --ftfy DIR[:DIR...]. With
--open-clip WHEEL the real open_clip SimpleTokenizer (needs torch) is loaded from that wheel and must agree
on every string; the committed fixtures were checked against open_clip_torch 3.3.0 with ftfy 6.3.1.
"""
import argparse
import gzip
import hashlib
import html
import importlib.util
import json
import os
import re
import struct
import sys
import tempfile
import zipfile

import regex

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
SHARED = os.path.abspath(os.path.join(ROOT, '..', 'shared'))
FIXTURES = os.path.join(ROOT, 'test', 'fixtures')
VOCAB = os.path.join(SHARED, 'vocab', 'bpe_simple_vocab_16e6.txt.gz')
RSITMD_FILES = ['test.json', 'train.json', 'val.json']
CONTEXT = 77


def byte_to_unicode():
    """GPT-2's reversible byte -> printable character table used by CLIP; its insertion order (printable
    bytes first, then the others) is the order of the first 256 vocabulary entries."""
    printable = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + \
        list(range(ord('®'), ord('ÿ') + 1))
    table = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return table


class ReferenceTokenizer:
    def __init__(self, vocab_path, fix_text):
        self.fix_text = fix_text
        self.byte_chars = byte_to_unicode()
        lines = gzip.open(vocab_path).read().decode('utf-8').split('\n')
        merges = [tuple(line.split()) for line in lines[1:49152 - 256 - 2 + 1]]
        symbols = list(self.byte_chars.values())
        vocab = symbols + [s + '</w>' for s in symbols] + [''.join(m) for m in merges]
        vocab += ['<start_of_text>', '<end_of_text>']
        self.ids = {tok: i for i, tok in enumerate(vocab)}
        self.rank = {pair: i for i, pair in enumerate(merges)}
        self.sot, self.eot = self.ids['<start_of_text>'], self.ids['<end_of_text>']
        self.pattern = regex.compile(
            r"""<start_of_text>|<end_of_text>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
            regex.IGNORECASE)
        self.cache = {'<start_of_text>': ['<start_of_text>'], '<end_of_text>': ['<end_of_text>']}

    def clean(self, text):
        text = html.unescape(html.unescape(self.fix_text(text))).strip()
        return ' '.join(text.split()).strip().lower()

    def bpe(self, piece):
        if piece in self.cache:
            return self.cache[piece]
        word = list(piece[:-1]) + [piece[-1] + '</w>']
        while len(word) > 1:
            pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
            best = min(pairs, key=lambda p: self.rank.get(p, float('inf')))
            if best not in self.rank:
                break
            merged, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and (word[i], word[i + 1]) == best:
                    merged.append(word[i] + word[i + 1])
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = merged
        self.cache[piece] = word
        return word

    def encode(self, text):
        out = []
        for piece in self.pattern.findall(self.clean(text)):
            mapped = ''.join(self.byte_chars[b] for b in piece.encode('utf-8'))
            out.extend(self.ids[t] for t in self.bpe(mapped))
        return out

    def row(self, text, context=CONTEXT):
        """The non-zero prefix of open_clip's row for `text`."""
        ids = [self.sot] + self.encode(text) + [self.eot]
        if len(ids) > context:
            ids = ids[:context]
            ids[-1] = self.eot
        return ids


def pre_caption(caption, max_words=30):
    """The authors' caption cleaning (spec section 6)."""
    caption = re.sub(r"[,.'!?\"()*#:;~]", '', caption.lower())
    caption = caption.replace('-', ' ').replace('/', ' ').replace('<person>', 'person')
    caption = re.sub(r'\s{2,}', ' ', caption).rstrip('\n').strip(' ')
    words = caption.split(' ')
    if len(words) > max_words:
        caption = ' '.join(words[:max_words])
    if not caption:
        raise ValueError(f'pre_caption yields invalid text for {caption!r}')
    return caption


EDGE_CASES = [
    '',
    '   \t\n ',
    'A photo of a CAT.',
    'Many buildings and some green trees are around a playground.',
    'Café déjà vu, naïve façade, Ångström, señor',
    'Cafe\u0301 and cafe\u0301s',
    'emoji 🛰️ satellite 🌍🌲🌲 and 👩‍👩‍👧 family, 🇫🇷 flag',
    '&amp; &lt;b&gt; &quot;quoted&quot; &#39;s &#x27;t a&nbsp;b &copy; &eacute;t&eacute;',
    '&amp;amp;amp; and &EACUTE;T&EACUTE; and AT&T and &notin &notit; and &#128; &#xD800; &#0;',
    '<b>bold &amp; brave</b> &amp;lt;',
    '<start_of_text>a river<end_of_text> <START_OF_TEXT>',
    'it’s a “curly” ‘quote’ ‚test‛',
    'the ﬁeld has ﬂowers, ﬀ ﬃ ﬄ ﬅ ﬆ Ĳssel ǅ',
    'ＬＯＵＤ　ＮＯＩＳＥＳ ｶﾀｶﾅ ﾍﾟ １２３',
    'tabs\tand\nnew\r\nlines\u2028and\u2029paragraphs\u0085next',
    'no\u00a0break\u3000ideographic \u2003em space',
    'ctrl\x00chars\x07and\x1bdel\x7fend\ufeffbom \u200bzero width\u200d joiner',
    '\x1b[31mred\x1b[0m text',
    'numbers 1234567 3.14159 2nd 100m 4% ½ ² ٣',
    '北京 東京タワー 한국어 Ελληνικά ΣΊΣΥΦΟΣ ΟΔΟΣ İstanbul STRAßE ſtar Kelvin\u212a',
    "'S 'LL 'Re it's we're I'M they'd you've don't",
    '!!!??? ... -- *** @#$%^&*()_+={}[]|\\:;"<>,.?/~`',
    'RSITMD: 2 planes @ airport #3 (50%) — near the “runway”…',
    'x\ud800y',
    'supercalifragilisticexpialidocious pneumonoultramicroscopicsilicovolcanoconiosis',
    'a' * 300,
    ' '.join(['many green trees'] * 40),
    'the ' * 200,
]
SHORT_CONTEXT_CASES = [('A white plane is parked at the airport next to the runway', 8),
                       ('short', 8), ('', 2), ('one two three', 5)]


def load_ftfy(paths):
    if paths:
        sys.path[:0] = paths.split(os.pathsep)
    try:
        import ftfy
    except ImportError:
        sys.exit('ftfy is not importable: pass --ftfy DIR (open_clip cleans text with ftfy.fix_text)')
    return ftfy.fix_text


def load_open_clip(wheel):
    """The real open_clip SimpleTokenizer from a wheel, on our vocabulary file."""
    work = tempfile.mkdtemp()
    with zipfile.ZipFile(wheel) as z:
        source = z.read('open_clip/tokenizer.py')
    with open(os.path.join(work, 'tokenizer.py'), 'wb') as f:
        f.write(source)
    with open(VOCAB, 'rb') as src, open(os.path.join(work, 'bpe_simple_vocab_16e6.txt.gz'), 'wb') as dst:
        dst.write(src.read())
    spec = importlib.util.spec_from_file_location('open_clip_tokenizer', os.path.join(work, 'tokenizer.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SimpleTokenizer(VOCAB)


def rsitmd_captions():
    files = []
    for name in RSITMD_FILES:
        with open(os.path.join(SHARED, 'data', 'rsitmd', name)) as f:
            entries = json.load(f)
        captions = []
        for entry in entries:
            value = entry['caption']
            captions.extend(value if isinstance(value, list) else [value])
        files.append((name, captions))
    return files


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--ftfy', help='folders (os.pathsep-separated) to import ftfy and wcwidth from')
    parser.add_argument('--open-clip', help='an open_clip_torch wheel to check the reference against')
    args = parser.parse_args()
    tok = ReferenceTokenizer(VOCAB, load_ftfy(args.ftfy))
    real = load_open_clip(args.open_clip) if args.open_clip else None

    def checked_row(text, context=CONTEXT):
        row = tok.row(text, context)
        if real is not None:
            expected = [int(v) for v in real([text], context_length=context)[0] if v != 0]
            if expected != row:
                sys.exit(f'reference disagrees with open_clip on {text!r}: {row} vs {expected}')
        return row

    files = rsitmd_captions()
    stream = bytearray()
    meta_files = []
    for name, captions in files:
        digest = hashlib.sha256()
        for caption in captions:
            digest.update(caption.encode('utf-8') + b'\n')
            for row in (checked_row(caption), checked_row(pre_caption(caption))):
                stream += struct.pack(f'<{len(row) + 1}H', len(row), *row)
        meta_files.append({'name': name, 'captions': len(captions), 'sha256': digest.hexdigest()})
    with open(VOCAB, 'rb') as f:
        vocab_sha = hashlib.sha256(f.read()).hexdigest()
    meta = {'source': 'tools/reference/gen_tokenizer_ids.py', 'vocab_sha256': vocab_sha, 'context_length': CONTEXT,
            'rows_per_caption': ['raw', 'pre_caption'], 'files': meta_files,
            'checked_against_open_clip': bool(real)}
    os.makedirs(FIXTURES, exist_ok=True)
    with open(os.path.join(FIXTURES, 'tokenizer_rsitmd.json'), 'w') as f:
        json.dump(meta, f, indent=1)
    with open(os.path.join(FIXTURES, 'tokenizer_rsitmd_ids.bin.gz'), 'wb') as f:
        f.write(gzip.compress(bytes(stream), compresslevel=9, mtime=0))

    cases = [{'text': t, 'context_length': CONTEXT, 'ids': checked_row(t)} for t in EDGE_CASES]
    cases += [{'text': t, 'context_length': n, 'ids': checked_row(t, n)} for t, n in SHORT_CONTEXT_CASES]
    with open(os.path.join(FIXTURES, 'tokenizer_cases.json'), 'w') as f:
        json.dump({'source': meta['source'], 'checked_against_open_clip': bool(real), 'cases': cases}, f,
                  ensure_ascii=True, indent=0)
    total = sum(m['captions'] for m in meta_files)
    print(f'{total} captions, {len(cases)} edge cases; open_clip check: {"yes" if real else "no"}')


if __name__ == '__main__':
    main()
