/**
 * report.html: one self-contained file (no external asset) with the metrics table, training
 * curves drawn as inline SVG, and top-5 retrieval grids in both directions in the style of the
 * paper's figure 4, the thumbnails embedded as JPEG data URIs.
 */
import * as nodePath from 'path';
import sharp from 'sharp';
import { posaplError } from '../errors';
import { writeAtomically } from '../io/atomicWrite';
import { checkTyped } from './checks';
import { formatMetrics, METRIC_KEYS, RetrievalMetrics, retrievalRanks } from './metrics';
import { ChartSeries, escapeXml, extent, lineChart, niceDomain } from './svgChart';

/** One training step as the trainer logs it. */
export interface StepRecord {
  /** Global step, 0-based. */
  step: number;
  /** The authors' 0-based epoch index. */
  epoch: number;
  contrastive: number;
  triplet: number;
  /** Learning rate used by this step. */
  lr: number;
}

/** Test metrics after an epoch. */
export interface EpochRecord {
  /** The authors' 0-based epoch index; -1 for the evaluation before training. */
  epoch: number;
  metrics: RetrievalMetrics;
}

/** What the retrieval grids are drawn from. */
export interface RetrievalSamples {
  /** (nImages) image file paths, readable by sharp. */
  images: readonly string[];
  /** (nTexts) captions as shown. */
  captions: readonly string[];
  /** (nTexts) image index of each caption. */
  textImage: Int32Array;
  /** (nImages, nTexts) = I T^T. */
  sims: Float32Array;
  /** Sample queries (image and caption indices); default six of each, spread over the split. */
  queries?: { images?: readonly number[]; texts?: readonly number[] };
  /** Thumbnail side in pixels (default 128; shown at 88 CSS px, sharp on high-density screens). */
  thumbnailSize?: number;
}

/** Everything report.html shows; every part but `results` is optional. */
export interface ReportData {
  /** Page title (default 'POSAPL retrieval report'). */
  title?: string;
  /** Key facts of the run (config, data, weights, epochs, batch, lr, seed, ...), shown as a table. */
  summary?: Record<string, string | number | boolean>;
  /** Rows of the metrics table, e.g. before training / best (epoch 7) / final. */
  results: ReadonlyArray<{ label: string; metrics: RetrievalMetrics }>;
  /** Training history for the curves. */
  history?: { steps: readonly StepRecord[]; epochs: readonly EpochRecord[] };
  retrieval?: RetrievalSamples;
  /** Time stamp shown in the page (default now). */
  createdAt?: Date;
}

/** Points per drawn curve; longer histories are bucketed. */
const MAX_POINTS = 600;
const TOP_K = 5;
const COLORS = { contrastive: '#2563eb', triplet: '#ea580c', lr: '#7c3aed', mR: '#047857', i2t: '#0891b2', t2i: '#a16207' };

/** Writes report.html to `path` atomically (temporary file, then rename). */
export async function writeReport(path: string, data: ReportData): Promise<void> {
  if (typeof path !== 'string' || path.length === 0) {
    throw posaplError('POSAPL_TYPE', `Expected a file path for path but received ${JSON.stringify(path)}`);
  }
  const html = await renderReport(data);
  await writeAtomically(path, (sink) => sink.write(Buffer.from(html, 'utf8')));
}

/** The report as an HTML string. */
export async function renderReport(data: ReportData): Promise<string> {
  checkReportData(data);
  const title = data.title ?? 'POSAPL retrieval report';
  const created = (data.createdAt ?? new Date()).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const sections = [
    `<header><h1>${escapeXml(title)}</h1><p class='muted'>posapl-native · ${escapeXml(created)}</p></header>`,
    data.summary ? summarySection(data.summary) : '',
    resultsSection(data.results),
    data.history ? curvesSection(data.history) : '',
    data.retrieval ? await retrievalSection(data.retrieval) : '',
  ];
  return `<!DOCTYPE html>
<html lang='en'>
<head>
<meta charset='utf-8'>
<meta name='generator' content='posapl-native'>
<meta name='viewport' content='width=device-width, initial-scale=1'>
<title>${escapeXml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${sections.filter((s) => s).join('\n')}
</body>
</html>
`;
}

function summarySection(summary: Record<string, string | number | boolean>): string {
  const rows = Object.entries(summary)
    .map(([k, v]) => `<tr><th>${escapeXml(k)}</th><td>${escapeXml(String(v))}</td></tr>`)
    .join('');
  return `<section><h2>Run</h2><table class='summary'>${rows}</table></section>`;
}

function resultsSection(results: ReportData['results']): string {
  if (results.length === 0) return '';
  const best = new Map(METRIC_KEYS.map((k) => [k, Math.max(...results.map((r) => r.metrics[k]))]));
  const cell = (k: keyof RetrievalMetrics, v: number) => {
    const strong = results.length > 1 && v === best.get(k);
    return `<td class='${k === 'r_mean' ? 'mr' : ''}${strong ? ' best' : ''}'>${v.toFixed(2)}</td>`;
  };
  const rows = results
    .map((r) => `<tr><th>${escapeXml(r.label)}</th>${METRIC_KEYS.map((k) => cell(k, r.metrics[k])).join('')}</tr>`)
    .join('');
  // Quotes stay literal so that the page source reads as the authors' log does.
  const printed = results.map((r) => `${r.label}: ${formatMetrics(r.metrics)}`.replace(/[&<>]/g, (c) => escapeXml(c))).join('\n');
  return `<section><h2>Retrieval metrics</h2>
<table class='metrics'>
<thead><tr><th rowspan='2'></th><th colspan='3'>Image → text</th><th colspan='3'>Text → image</th><th rowspan='2'>mR</th></tr>
<tr><th>R@1</th><th>R@5</th><th>R@10</th><th>R@1</th><th>R@5</th><th>R@10</th></tr></thead>
<tbody>${rows}</tbody>
</table>
<p class='muted'>Recall in %: the share of queries whose ground truth is among the first K results; mR is the mean of the six. In the authors' printed format:</p>
<pre>${printed}</pre>
</section>`;
}

function curvesSection(history: NonNullable<ReportData['history']>): string {
  const charts: string[] = [];
  const steps = history.steps;
  if (steps.length > 0) {
    const guides = epochGuides(steps);
    const xLabel = guides.length > 0 ? 'training step (dashed: end of epoch k)' : 'training step';
    charts.push(lossChart('contrastive', 'Contrastive loss', steps.map((s) => [s.step, s.contrastive]), COLORS.contrastive, xLabel, guides));
    charts.push(lossChart('triplet', 'Triplet loss (power-scaled, summed)', steps.map((s) => [s.step, s.triplet]), COLORS.triplet, xLabel, guides));
    charts.push(lineChart({
      id: 'lr', title: 'Learning rate (cosine, per step)', xLabel, guides,
      series: [{ name: 'lr', color: COLORS.lr, points: decimate(steps.map((s) => [s.step, s.lr])), width: 2 }],
    }));
  }
  if (history.epochs.length > 0) charts.push(epochChart(history.epochs));
  if (charts.length === 0) return '';
  return `<section><h2>Training</h2><div class='charts'>${charts.map((c) => `<div class='card'>${c}</div>`).join('')}</div></section>`;
}

/** Dashed guides where an epoch ends, labelled with that epoch's 0-based number (thinned when many). */
function epochGuides(steps: readonly StepRecord[]): { x: number; label: string }[] {
  const ends: { x: number; epoch: number }[] = [];
  for (let k = 1; k < steps.length; k++) {
    if (steps[k].epoch !== steps[k - 1].epoch) ends.push({ x: (steps[k - 1].step + steps[k].step) / 2, epoch: steps[k - 1].epoch });
  }
  const every = Math.ceil(ends.length / 12);
  return ends.map((e, k) => ({ x: e.x, label: (k + 1) % every === 0 ? `${e.epoch}` : '' }));
}

/** Raw values (a min-max band when bucketed) under a centred moving average, which does not lag the data. */
function lossChart(id: string, title: string, raw: [number, number][], color: string, xLabel: string, guides: { x: number; label: string }[]): string {
  const n = raw.length;
  const half = Math.floor(Math.min(50, Math.round(n / 20)) / 2);
  const series: ChartSeries[] = [];
  const bucket = Math.ceil(n / MAX_POINTS);
  if (bucket === 1) {
    series.push({ name: 'per step', color, points: raw, width: 1, opacity: half > 0 ? 0.35 : 1 });
  } else {
    const band: [number, number, number][] = [];
    for (let b = 0; b < n; b += bucket) {
      const [lo, hi] = extent(raw.slice(b, b + bucket).map(([, y]) => y));
      band.push([raw[Math.min(n - 1, b + (bucket >> 1))][0], lo, hi]);
    }
    series.push({ name: 'per-step range', color, points: [], band });
  }
  let smoothed: [number, number][] = [];
  if (half > 0) {
    const prefix = new Float64Array(n + 1);
    raw.forEach(([, y], k) => (prefix[k + 1] = prefix[k] + y));
    smoothed = raw.map(([x], k) => {
      const a = Math.max(0, k - half);
      const b = Math.min(n, k + half + 1);
      return [x, (prefix[b] - prefix[a]) / (b - a)];
    });
    series.push({ name: `moving average (${2 * half + 1} steps)`, color, points: decimate(smoothed), width: 2 });
  }
  // Early spikes would flatten the rest: the top follows the smoothed curve and the 98th percentile.
  const ys = raw.map(([, y]) => y).sort((a, b) => a - b);
  const top = Math.max(ys[Math.floor(0.98 * (n - 1))], smoothed.length > 0 ? extent(smoothed.map(([, y]) => y))[1] : -Infinity);
  return lineChart({ id, title, xLabel, series, guides, yDomain: niceDomain(ys[0], top) });
}

function epochChart(epochs: readonly EpochRecord[]): string {
  const sorted = [...epochs].sort((a, b) => a.epoch - b.epoch);
  const mean3 = (m: RetrievalMetrics, a: keyof RetrievalMetrics, b: keyof RetrievalMetrics, c: keyof RetrievalMetrics) =>
    Math.round(((m[a] + m[b] + m[c]) / 3) * 100) / 100;
  // The first maximum, as the authors keep a result only when a later one is strictly better.
  let best = sorted[0];
  for (const e of sorted) if (e.metrics.r_mean > best.metrics.r_mean) best = e;
  return lineChart({
    id: 'mr', title: 'Test mR per epoch', xLabel: "epoch (the authors' numbering)", integerX: true,
    xFormat: (x) => (x === -1 ? 'before' : String(x)),
    series: [
      { name: 'mR', color: COLORS.mR, width: 2.2, markers: true, labelled: sorted.length <= 12, points: sorted.map((e) => [e.epoch, e.metrics.r_mean]) },
      { name: 'image→text mean R', color: COLORS.i2t, width: 1.2, opacity: 0.8, points: sorted.map((e) => [e.epoch, mean3(e.metrics, 'txt_r1', 'txt_r5', 'txt_r10')]) },
      { name: 'text→image mean R', color: COLORS.t2i, width: 1.2, opacity: 0.8, points: sorted.map((e) => [e.epoch, mean3(e.metrics, 'img_r1', 'img_r5', 'img_r10')]) },
    ],
    highlight: { x: best.epoch, y: best.metrics.r_mean, label: 'best' },
  });
}

/** Every k-th point and the last, at most MAX_POINTS in all. */
function decimate(points: [number, number][]): [number, number][] {
  const every = Math.ceil(points.length / MAX_POINTS);
  if (every <= 1) return points;
  const out = points.filter((_, k) => k % every === 0);
  if ((points.length - 1) % every !== 0) out.push(points[points.length - 1]);
  return out;
}

async function retrievalSection(r: RetrievalSamples): Promise<string> {
  const nImages = r.images.length;
  const nTexts = r.captions.length;
  const ranks = retrievalRanks(r.sims, nImages, nTexts, r.textImage);
  const imageQueries = r.queries?.images ?? spread(nImages, 0.5);
  const textQueries = r.queries?.texts ?? spread(nTexts, 0.25);
  const score = (i: number, t: number) => r.sims[i * nTexts + t];

  const textRows = textQueries.map((t) => ({ t, top: topK(nImages, (i) => score(i, t)) }));
  const imageRows = imageQueries.map((i) => ({ i, top: topK(nTexts, (t) => score(i, t)) }));
  const needed = new Set<number>([...imageQueries, ...textRows.flatMap((row) => row.top)]);
  const thumbs = await thumbnails(r.images, [...needed], r.thumbnailSize ?? 128);
  const img = (i: number, extra = '') => {
    const uri = thumbs.get(i);
    const name = escapeXml(nodePath.basename(r.images[i]));
    return uri
      ? `<img src='${uri}' width='88' height='88' alt='${name}' title='${name}${extra}'>`
      : `<div class='missing' title='${escapeXml(r.images[i])}'>unreadable<br>${name}</div>`;
  };

  const captionToImage = textRows
    .map(({ t, top }) => {
      const truth = r.textImage[t];
      const hits = top
        .map((i, k) => `<figure class='${i === truth ? 'gt' : ''}'>${img(i, ` · similarity ${score(i, t).toFixed(3)}`)}<figcaption>${k + 1} · ${score(i, t).toFixed(3)}</figcaption></figure>`)
        .join('');
      const miss = top.includes(truth) ? '' : `<div class='miss'>ground truth at position ${ranks.image[t] + 1}</div>`;
      return `<div class='row'><div class='query-text'>${escapeXml(r.captions[t])}${miss}</div><div class='hits'>${hits}</div></div>`;
    })
    .join('');

  const imageToCaption = imageRows
    .map(({ i, top }) => {
      const lines = top
        .map((t) => `<li class='${r.textImage[t] === i ? 'gt' : ''}'><span>${escapeXml(r.captions[t])}</span><span class='score'>${score(i, t).toFixed(3)}</span></li>`)
        .join('');
      const miss = top.some((t) => r.textImage[t] === i) ? '' : `<li class='miss'>first ground-truth caption at position ${ranks.text[i] + 1}</li>`;
      return `<div class='row'><figure class='query'>${img(i)}</figure><ol class='captions'>${lines}${miss}</ol></div>`;
    })
    .join('');

  const ties = ranks.tiedTextQueries + ranks.tiedImageQueries > 0
    ? ` Equal scores are ranked as <code>np.argsort(kind='stable')[::-1]</code> would: ${ranks.tiedTextQueries} image and ${ranks.tiedImageQueries} caption queries have a ground truth tied with another candidate.`
    : '';
  return `<section><h2>Top-${TOP_K} retrieval</h2>
<p class='muted'>Ground truth in <span class='red'>red</span>. Under each image: position · cosine similarity. ${nImages} images, ${nTexts} captions.${ties}</p>
<div class='grids'>
<div class='panel t2i'><div class='panel-head'><span>Query</span><span>Top-${TOP_K} images</span></div>${captionToImage}</div>
<div class='panel i2t'><div class='panel-head'><span>Query</span><span>Top-${TOP_K} captions</span></div>${imageToCaption}</div>
</div>
</section>`;
}

/** Up to six indices spread evenly over [0, n), starting a fraction into the first sixth. */
function spread(n: number, offset: number): number[] {
  const count = Math.min(6, n);
  return [...new Set(Array.from({ length: count }, (_, k) => Math.floor(((k + offset) * n) / count)))];
}

/** The TOP_K best candidates by score, the higher index first among equal scores (the ranking's tie order). */
function topK(n: number, scoreOf: (j: number) => number): number[] {
  const top: number[] = [];
  const before = (a: number, b: number) => scoreOf(a) > scoreOf(b) || (scoreOf(a) === scoreOf(b) && a > b);
  for (let j = 0; j < n; j++) {
    if (top.length === TOP_K && !before(j, top[TOP_K - 1])) continue;
    let k = Math.min(top.length, TOP_K - 1);
    top[k] = j;
    while (k > 0 && before(top[k], top[k - 1])) {
      [top[k - 1], top[k]] = [top[k], top[k - 1]];
      k--;
    }
  }
  return top;
}

/** JPEG data URIs of the listed images (cover-cropped squares); unreadable files are left out. */
async function thumbnails(paths: readonly string[], indices: number[], size: number): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  const queue = [...indices];
  const worker = async () => {
    for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
      try {
        const jpeg = await sharp(paths[i])
          .resize(size, size, { fit: 'cover', kernel: 'lanczos3' })
          .flatten({ background: '#ffffff' })
          .jpeg({ quality: 80 })
          .toBuffer();
        out.set(i, `data:image/jpeg;base64,${jpeg.toString('base64')}`);
      } catch {
        // Shown as an "unreadable" tile naming the file: a report is still worth having.
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return out;
}

function checkReportData(data: ReportData): void {
  if (typeof data !== 'object' || data === null) {
    throw posaplError('POSAPL_TYPE', `Expected a ReportData object for data but received ${String(data)}`);
  }
  if (!Array.isArray(data.results)) {
    throw posaplError('POSAPL_TYPE', `Expected an array for data.results but received ${typeof data.results}`);
  }
  data.results.forEach((row, k) => {
    for (const key of METRIC_KEYS) {
      if (typeof row?.metrics?.[key] !== 'number') {
        throw posaplError('POSAPL_TYPE', `Expected a number for data.results[${k}].metrics.${key} but received ${String(row?.metrics?.[key])}`);
      }
    }
  });
  const r = data.retrieval;
  if (r) {
    if (!Array.isArray(r.images) || r.images.length === 0 || !Array.isArray(r.captions) || r.captions.length === 0) {
      throw posaplError('POSAPL_TYPE', 'Expected non-empty arrays for data.retrieval.images and data.retrieval.captions');
    }
    const nImages = r.images.length;
    const nTexts = r.captions.length;
    checkTyped(r.textImage, 'Int32Array', nTexts, 'data.retrieval.textImage', `(nTexts) = (${nTexts})`);
    checkTyped(r.sims, 'Float32Array', nImages * nTexts, 'data.retrieval.sims', `(nImages,nTexts) = (${nImages},${nTexts})`);
    const size = r.thumbnailSize ?? 128;
    if (!Number.isInteger(size) || size < 16 || size > 1024) {
      throw posaplError('POSAPL_TYPE', `Expected an integer in [16, 1024] for data.retrieval.thumbnailSize but received ${size}`);
    }
    for (const [name, list, n] of [['images', r.queries?.images, nImages], ['texts', r.queries?.texts, nTexts]] as const) {
      for (const q of list ?? []) {
        if (!Number.isInteger(q) || q < 0 || q >= n) {
          throw posaplError('POSAPL_SHAPE', `Expected indices in [0, ${n}) for data.retrieval.queries.${name} but received ${q}`);
        }
      }
    }
  }
}

const STYLE = `
:root { --red: #c0392b; --ink: #111827; --muted: #6b7280; --line: #e5e7eb; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1400px; padding: 24px 28px 48px; color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; background: #fff; }
h1 { font-size: 22px; margin: 0 0 2px; }
h2 { font-size: 17px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
.muted { color: var(--muted); font-size: 12.5px; }
.red { color: var(--red); font-weight: 600; }
pre { background: #f9fafb; border: 1px solid var(--line); border-radius: 4px; padding: 8px 10px; font-size: 12px; overflow-x: auto; }
table { border-collapse: collapse; }
table.summary th { text-align: left; font-weight: 500; color: var(--muted); padding: 2px 18px 2px 0; }
table.summary td { padding: 2px 0; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px; }
table.metrics th, table.metrics td { padding: 5px 12px; border-bottom: 1px solid var(--line); text-align: right; }
table.metrics thead th { text-align: center; font-weight: 600; background: #f3f4f6; }
table.metrics tbody th { text-align: left; font-weight: 500; }
table.metrics td { font-variant-numeric: tabular-nums; }
table.metrics td.mr { font-weight: 600; background: #f0fdf4; }
table.metrics td.best { text-decoration: underline; text-decoration-thickness: 2px; text-underline-offset: 3px; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(480px, 1fr)); gap: 14px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 6px; }
.card svg { display: block; width: 100%; max-width: 640px; height: auto; margin: 0 auto; }
.grids { display: flex; flex-wrap: wrap; align-items: flex-start; gap: 24px 40px; }
.panel.t2i { flex: none; }
.panel.i2t { flex: 1 1 440px; min-width: 0; }
.panel-head { display: flex; gap: 12px; font-weight: 700; font-size: 13px; padding-bottom: 6px; border-bottom: 1px solid var(--line); margin-bottom: 6px; }
.t2i .panel-head span:first-child { width: 180px; }
.i2t .panel-head span:first-child { width: 96px; }
.row { display: flex; gap: 12px; align-items: flex-start; padding: 6px 0; border-bottom: 1px solid #f3f4f6; }
.query-text { width: 180px; flex: none; font-family: Georgia, 'Times New Roman', serif; font-size: 14px; }
.hits { display: flex; gap: 5px; }
figure { margin: 0; text-align: center; }
figure img, .missing { display: block; width: 88px; height: 88px; border: 3px solid transparent; }
figure.gt img { border-color: var(--red); }
figure.query { width: 96px; flex: none; }
figcaption { font-size: 10.5px; color: var(--muted); font-variant-numeric: tabular-nums; }
.missing { background: #f3f4f6; color: var(--muted); font-size: 10px; display: flex; align-items: center; justify-content: center; flex-direction: column; overflow: hidden; word-break: break-all; }
ol.captions { list-style: none; margin: 0; padding: 0; flex: 1; max-width: 600px; font-family: Georgia, 'Times New Roman', serif; font-size: 14px; }
ol.captions li { display: flex; justify-content: space-between; gap: 10px; padding: 1px 0; }
ol.captions li.gt { color: var(--red); }
.score { color: var(--muted); font: 11px ui-monospace, Menlo, Consolas, monospace; padding-top: 3px; }
.miss, li.miss { color: var(--red); font: italic 11.5px system-ui, sans-serif; margin-top: 4px; }
code { font-size: 11.5px; }
`;
