/** report.html: self-contained, with SVG curves, embedded thumbnails and the top-5 grids. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { ReportData, StepRecord, writeReport } from '../../../src/eval';
import { rng } from '../../helpers/numeric';

const N_IMAGES = 8;
const PER_IMAGE = 2;
const N_TEXTS = N_IMAGES * PER_IMAGE;

let dir: string;
let images: string[];

/** Small real image files: RGB JPEG, RGBA PNG, grey PNG, 16-bit TIFF. */
async function writeImages(): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < N_IMAGES; i++) {
    const w = 48 + 8 * i;
    const raw = Buffer.alloc(w * 40 * 3);
    for (let p = 0; p < w * 40; p++) {
      raw[p * 3] = (p * (i + 1)) % 256;
      raw[p * 3 + 1] = (40 * i) % 256;
      raw[p * 3 + 2] = (p % w) * 4;
    }
    let image = sharp(raw, { raw: { width: w, height: 40, channels: 3 } });
    const ext = ['jpg', 'png', 'tif', 'png'][i % 4];
    if (i % 4 === 1) image = image.ensureAlpha(0.5);
    if (i % 4 === 3) image = image.greyscale();
    if (i % 4 === 2) image = image.toColourspace('rgb16');
    const file = path.join(dir, `scene ${i}.${ext}`);
    await image.toFile(file);
    out.push(file);
  }
  return out;
}

function retrieval(seed: number) {
  const r = rng(seed);
  const sims = new Float32Array(N_IMAGES * N_TEXTS).map(() => r() * 2 - 1);
  const textImage = new Int32Array(N_TEXTS).map((_, t) => Math.floor(t / PER_IMAGE));
  // Image 2 finds its caption 4 first and caption 6 finds image 3 first.
  sims[2 * N_TEXTS + 4] = 2;
  sims[3 * N_TEXTS + 6] = 2;
  const captions = Array.from({ length: N_TEXTS }, (_, t) => `caption ${t} of <image ${textImage[t]}> & "friends"`);
  return { images, captions, textImage, sims, queries: { images: [2, 5], texts: [6, 9, 1] } };
}

function history(): NonNullable<ReportData['history']> {
  const steps: StepRecord[] = [];
  const stepsPerEpoch = 70;
  for (let s = 0; s < 10 * stepsPerEpoch; s++) {
    steps.push({ step: s, epoch: Math.floor(s / stepsPerEpoch), contrastive: 5 - s / 400 + 0.1 * Math.sin(s), triplet: 120 * Math.exp(-s / 200) + 20 + 5 * Math.cos(s * 1.7), lr: 1e-3 * (1 + Math.cos((Math.PI * s) / 700)) / 2 });
  }
  const metric = (x: number) => ({ txt_r1: x - 20, txt_r5: x, txt_r10: x + 12, img_r1: x - 25, img_r5: x + 2, img_r10: x + 20, r_mean: x });
  const epochs = [-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((e) => ({ epoch: e, metrics: metric(e === 7 ? 48.72 : 27.39 + 2 * Math.sqrt(e + 1)) }));
  return { steps, epochs };
}

/** Top-5 of a list of scores: descending, the higher index first among equals. */
function top5(scores: number[]): number[] {
  return scores.map((s, j) => [s, j]).sort((a, b) => b[0] - a[0] || b[1] - a[1]).slice(0, 5).map(([, j]) => j);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posapl-report-'));
  images = await writeImages();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('writeReport', () => {
  it('writes one self-contained page with the metrics, four SVG charts and the retrieval grids', async () => {
    const file = path.join(dir, 'report.html');
    fs.writeFileSync(file, 'old');
    const r = retrieval(1);
    const best = { txt_r1: 28.54, txt_r5: 50.22, txt_r10: 63.05, img_r1: 22.65, img_r5: 55.31, img_r10: 72.52, r_mean: 48.72 };
    await writeReport(file, {
      title: 'RSITMD <test>',
      summary: { config: 'rsitmd', epochs: 10, lr: 0.001 },
      results: [
        { label: 'before training', metrics: { txt_r1: 10.18, txt_r5: 24.12, txt_r10: 35.84, img_r1: 10.0, img_r5: 33.63, img_r10: 50.58, r_mean: 27.39 } },
        { label: 'best (epoch 7)', metrics: best },
      ],
      history: history(),
      retrieval: r,
      createdAt: new Date('2025-03-03T09:15:55Z'),
    });
    expect(fs.readdirSync(dir).filter((f) => f.includes('report'))).toEqual(['report.html']); // no temporary left
    const html = fs.readFileSync(file, 'utf8');
    // Short failure messages: the page is hundreds of kilobytes.
    const contains = (text: string) => expect([text, html.includes(text)]).toEqual([text, true]);

    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
    contains('<title>RSITMD &lt;test&gt;</title>');
    contains('2025-03-03 09:15:55 UTC');
    // Nothing is fetched from elsewhere.
    expect(/(src|href)=['"]?(https?:|\/\/|file:)|<link|<script/.test(html)).toBe(false);
    // Metrics table and the authors' printed form.
    contains("best (epoch 7): {'txt_r1': 28.54, 'txt_r5': 50.22, 'txt_r10': 63.05, 'img_r1': 22.65, 'img_r5': 55.31, 'img_r10': 72.52, 'r_mean': 48.72}");
    contains("<td class='mr best'>48.72</td>");
    contains("<td class=''>10.00</td>");
    // Charts: contrastive, triplet, lr, mR per epoch, each with axes, ticks and data.
    const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    expect(svgs).toHaveLength(4);
    for (const title of ['Contrastive loss', 'Triplet loss', 'Learning rate', 'Test mR per epoch']) {
      const svg = svgs.find((s) => s.includes(`<title>${title}`));
      expect(svg).toBeDefined();
      expect((svg!.match(/<polyline /g) ?? []).length).toBeGreaterThanOrEqual(1);
      expect((svg!.match(/text-anchor='end'/g) ?? []).length).toBeGreaterThanOrEqual(3); // y tick labels
      for (const points of svg!.match(/points='[^']*'/g) ?? []) expect(points).not.toMatch(/NaN|Infinity/);
    }
    const mr = svgs.find((s) => s.includes('<title>Test mR per epoch'))!;
    expect(mr).toContain('>before<');
    expect(mr).toContain('>best<');
    expect(mr).toContain('>48.72<');

    // Thumbnails: JPEG data URIs of the requested size, decodable.
    const uris = [...html.matchAll(/<img src='data:image\/jpeg;base64,([A-Za-z0-9+/=]+)'/g)].map((m) => m[1]);
    expect(uris).toHaveLength(3 * 5 + 2); // three caption queries x 5 images, two image queries
    const meta = await sharp(Buffer.from(uris[0], 'base64')).metadata();
    expect([meta.format, meta.width, meta.height, meta.channels]).toEqual(['jpeg', 128, 128, 3]);

    // Caption -> image rows: the top 5 in order, the ground truth outlined.
    const rows = html.split("<div class='row'>").slice(1);
    expect(rows).toHaveLength(5);
    let outlined = 0;
    r.queries.texts.forEach((t, q) => {
      const expected = top5(Array.from({ length: N_IMAGES }, (_, i) => r.sims[i * N_TEXTS + t]));
      const shown = [...rows[q].matchAll(/alt='scene (\d+)\.\w+'/g)].map((m) => Number(m[1]));
      expect(shown).toEqual(expected);
      const gt = [...rows[q].matchAll(/<figure class='(gt)?'><img [^>]*alt='scene (\d+)/g)].filter((m) => m[1]).map((m) => Number(m[2]));
      expect(gt).toEqual(expected.filter((i) => i === r.textImage[t]));
      outlined += gt.length;
    });
    expect(rows[0]).toContain("caption 6 of &lt;image 3&gt; &amp; &quot;friends&quot;");
    expect(outlined).toBeGreaterThanOrEqual(1);
    // Image -> caption rows: the top 5 captions in order, the ground truth in red.
    r.queries.images.forEach((i, q) => {
      const row = rows[3 + q];
      const expected = top5(Array.from(r.sims.subarray(i * N_TEXTS, (i + 1) * N_TEXTS)));
      const shown = [...row.matchAll(/<li class='(gt)?'><span>caption (\d+) /g)].map((m) => [Number(m[2]), m[1] === 'gt']);
      expect(shown).toEqual(expected.map((t) => [t, r.textImage[t] === i]));
    });
    expect(rows[3].includes("<li class='gt'><span>caption 4 ")).toBe(true);
  });

  it('shows an unreadable image as a labelled tile and a missed ground truth by its position', async () => {
    const r = retrieval(2);
    const broken = [...images];
    broken[3] = path.join(dir, 'missing.tif');
    // Caption 0 (image 0) finds image 3 first and image 0 last.
    for (let i = 0; i < N_IMAGES; i++) r.sims[i * N_TEXTS] = i === 3 ? 3 : i === 0 ? -3 : 0.5 - i / 100;
    const file = path.join(dir, 'broken.html');
    await writeReport(file, { results: [], retrieval: { ...r, images: broken, queries: { texts: [0], images: [0] } } });
    const html = fs.readFileSync(file, 'utf8');
    expect(html.includes(`<div class='missing' title='${broken[3]}'>unreadable<br>missing.tif</div>`)).toBe(true);
    expect(html.includes('ground truth at position 8')).toBe(true);
    expect(html.includes('<svg')).toBe(false);
    expect(html.includes("<table class='metrics'>")).toBe(false);
  });

  it('rejects inconsistent data before writing anything', async () => {
    const file = path.join(dir, 'never.html');
    const r = retrieval(3);
    const failure = (p: Promise<unknown>) => p.then(() => 'no error', (e) => `${e.code}: ${e.message}`);
    expect(await failure(writeReport(file, { results: [], retrieval: { ...r, sims: r.sims.subarray(1) } })))
      .toMatch(/^POSAPL_SHAPE: .*data\.retrieval\.sims/);
    expect(await failure(writeReport(file, { results: [], retrieval: { ...r, queries: { images: [N_IMAGES] } } })))
      .toMatch(/^POSAPL_SHAPE: .*queries\.images/);
    expect(await failure(writeReport(file, { results: [{ label: 'x', metrics: { txt_r1: 1 } as never }] })))
      .toMatch(/^POSAPL_TYPE: .*results\[0\]\.metrics\.txt_r5/);
    expect(await failure(writeReport(path.join(dir, 'no-such-dir', 'r.html'), { results: [] }))).toMatch(/^POSAPL_IO: .*no-such-dir/);
    expect(fs.existsSync(file)).toBe(false);
  });
});
