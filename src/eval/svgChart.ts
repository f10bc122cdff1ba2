/**
 * Line charts as self-contained inline SVG (axes, ticks, labels, legend), for report.html.
 */

/** One line of a chart. */
export interface ChartSeries {
  name: string;
  color: string;
  /** (x, y) in data units, x ascending. */
  points: ReadonlyArray<readonly [number, number]>;
  /** Stroke width in px (default 1.5). */
  width?: number;
  /** Stroke opacity (default 1). */
  opacity?: number;
  /** A dot on every point, with its value written above when `labelled`. */
  markers?: boolean;
  labelled?: boolean;
  /** A shaded (x, low, high) range drawn under the line, e.g. the raw values around a smoothed curve. */
  band?: ReadonlyArray<readonly [number, number, number]>;
  /** Leave out of the legend. */
  unlisted?: boolean;
}

/** What {@link lineChart} draws. */
export interface ChartSpec {
  /** Unique within the page (clip-path ids). */
  id: string;
  title: string;
  xLabel: string;
  series: ChartSeries[];
  /** Size in px (default 480 x 270). */
  width?: number;
  height?: number;
  /** y range; default: nice bounds around every point and band. */
  yDomain?: readonly [number, number];
  /** Only integer x ticks (epochs). */
  integerX?: boolean;
  xFormat?: (x: number) => string;
  /** Dashed vertical guides with a small label at the top (epoch boundaries). */
  guides?: ReadonlyArray<{ x: number; label: string }>;
  /** A point circled and labelled (the best epoch). */
  highlight?: { x: number; y: number; label: string };
}

const MARGIN = { left: 56, right: 14, top: 50, bottom: 42 };
const FONT = "font-family='system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif'";

/** Escapes text for HTML and SVG content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** A step of 1, 2 or 5 times a power of ten giving about `target` intervals over `range`. */
export function niceStep(range: number, target: number): number {
  const raw = range / target;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / magnitude;
  return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * magnitude;
}

/** Multiples of `step` within [lo, hi], free of accumulated rounding. */
function ticksWithin(lo: number, hi: number, step: number): number[] {
  const ticks: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) ticks.push(Number((k * step).toPrecision(12)));
  return ticks;
}

/** Tick labels with as many decimals as the step needs. */
function tickFormat(step: number): (v: number) => string {
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return (v) => v.toFixed(decimals);
}

/** Nice bounds around [lo, hi]: extended to whole steps of about a fifth of the range; a flat range padded. */
export function niceDomain(lo: number, hi: number): [number, number] {
  if (hi - lo < 1e-12 * Math.max(1, Math.abs(hi))) {
    const pad = Math.abs(hi) > 0 ? Math.abs(hi) * 0.1 : 1;
    return [lo - pad, hi + pad];
  }
  const step = niceStep(hi - lo, 5);
  return [Math.floor(lo / step + 1e-9) * step, Math.ceil(hi / step - 1e-9) * step];
}

/** [min, max] of a non-empty list (no argument spreading: lists can be long). */
export function extent(values: readonly number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

const fmt = (v: number) => (Math.round(v * 10) / 10).toString();

/** An SVG line chart. */
export function lineChart(spec: ChartSpec): string {
  const W = spec.width ?? 480;
  const H = spec.height ?? 270;
  const plotW = W - MARGIN.left - MARGIN.right;
  const plotH = H - MARGIN.top - MARGIN.bottom;
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of spec.series) {
    for (const [x, y] of s.points) {
      xs.push(x);
      ys.push(y);
    }
    for (const [x, lo, hi] of s.band ?? []) {
      xs.push(x);
      ys.push(lo, hi);
    }
  }
  const out: string[] = [];
  out.push(`<svg xmlns='http://www.w3.org/2000/svg' class='chart' width='${W}' height='${H}' viewBox='0 0 ${W} ${H}' role='img' aria-label='${escapeXml(spec.title)}' ${FONT}>`);
  out.push(`<title>${escapeXml(spec.title)}</title>`);
  out.push(`<text x='${MARGIN.left}' y='18' font-size='13' font-weight='600' fill='#1f2937'>${escapeXml(spec.title)}</text>`);
  if (xs.length === 0) {
    out.push(`<text x='${W / 2}' y='${H / 2}' text-anchor='middle' font-size='12' fill='#6b7280'>no data</text></svg>`);
    return out.join('');
  }

  let [xMin, xMax] = extent(xs);
  if (xMax === xMin) {
    xMin -= 1;
    xMax += 1;
  }
  if (spec.integerX) {
    // Room for the first and last markers and their labels.
    xMin -= 0.4;
    xMax += 0.4;
  }
  const [lo, hi] = spec.yDomain ?? niceDomain(...extent(ys));
  // Both ends on a tick, so that the top and bottom grid lines are labelled.
  const yStep = niceStep(hi - lo, 5);
  const yMin = Math.floor(lo / yStep + 1e-9) * yStep;
  const yMax = Math.ceil(hi / yStep - 1e-9) * yStep;
  const px = (x: number) => MARGIN.left + ((x - xMin) / (xMax - xMin)) * plotW;
  const py = (y: number) => MARGIN.top + (1 - (y - yMin) / (yMax - yMin)) * plotH;

  // Grid and y ticks.
  const yLabel = tickFormat(yStep);
  for (const v of ticksWithin(yMin, yMax, yStep)) {
    const y = fmt(py(v));
    out.push(`<line x1='${MARGIN.left}' x2='${MARGIN.left + plotW}' y1='${y}' y2='${y}' stroke='#e5e7eb'/>`);
    out.push(`<text x='${MARGIN.left - 6}' y='${y}' dy='0.32em' text-anchor='end' font-size='10.5' fill='#4b5563'>${yLabel(v)}</text>`);
  }
  // x ticks.
  const xStep = spec.integerX ? Math.max(1, Math.ceil(niceStep(xMax - xMin, 8))) : niceStep(xMax - xMin, 6);
  const xLabel = spec.xFormat ?? tickFormat(xStep);
  const plotBottom = MARGIN.top + plotH;
  for (const v of ticksWithin(xMin, xMax, xStep)) {
    const x = fmt(px(v));
    out.push(`<line x1='${x}' x2='${x}' y1='${plotBottom}' y2='${plotBottom + 4}' stroke='#6b7280'/>`);
    out.push(`<text x='${x}' y='${plotBottom + 16}' text-anchor='middle' font-size='10.5' fill='#4b5563'>${escapeXml(xLabel(v))}</text>`);
  }
  out.push(`<text x='${MARGIN.left + plotW / 2}' y='${H - 6}' text-anchor='middle' font-size='11' fill='#374151'>${escapeXml(spec.xLabel)}</text>`);
  // Guides.
  for (const g of spec.guides ?? []) {
    if (g.x < xMin || g.x > xMax) continue;
    const x = fmt(px(g.x));
    out.push(`<line x1='${x}' x2='${x}' y1='${MARGIN.top}' y2='${plotBottom}' stroke='#9ca3af' stroke-dasharray='3 3' stroke-width='0.8'/>`);
    out.push(`<text x='${x}' y='${MARGIN.top - 3}' text-anchor='middle' font-size='9' fill='#9ca3af'>${escapeXml(g.label)}</text>`);
  }
  // Axes.
  out.push(`<path d='M${MARGIN.left},${MARGIN.top}V${plotBottom}H${MARGIN.left + plotW}' fill='none' stroke='#6b7280'/>`);

  // Data, clipped to the plot area.
  out.push(`<clipPath id='clip-${escapeXml(spec.id)}'><rect x='${MARGIN.left}' y='${MARGIN.top - 6}' width='${plotW + 6}' height='${plotH + 12}'/></clipPath>`);
  out.push(`<g clip-path='url(#clip-${escapeXml(spec.id)})'>`);
  for (const s of spec.series) {
    if (s.band && s.band.length > 0) {
      const upper = s.band.map(([x, , hi]) => `${fmt(px(x))},${fmt(py(hi))}`);
      const lower = s.band.map(([x, lo]) => `${fmt(px(x))},${fmt(py(lo))}`).reverse();
      out.push(`<polygon points='${[...upper, ...lower].join(' ')}' fill='${s.color}' fill-opacity='0.18' stroke='none'/>`);
    }
    if (s.points.length > 0) {
      const pts = s.points.map(([x, y]) => `${fmt(px(x))},${fmt(py(y))}`).join(' ');
      out.push(`<polyline points='${pts}' fill='none' stroke='${s.color}' stroke-width='${s.width ?? 1.5}' stroke-opacity='${s.opacity ?? 1}' stroke-linejoin='round'/>`);
    }
    if (s.markers) {
      for (const [x, y] of s.points) out.push(`<circle cx='${fmt(px(x))}' cy='${fmt(py(y))}' r='2.8' fill='${s.color}'/>`);
    }
  }
  if (spec.highlight) {
    const { x, y, label } = spec.highlight;
    out.push(`<circle cx='${fmt(px(x))}' cy='${fmt(py(y))}' r='7' fill='none' stroke='#b91c1c' stroke-width='1.5'/>`);
    out.push(`<text x='${fmt(px(x))}' y='${fmt(py(y) + 19)}' text-anchor='middle' font-size='10' font-weight='600' fill='#b91c1c'>${escapeXml(label)}</text>`);
  }
  out.push('</g>');
  // Value labels may reach past the plot area.
  for (const s of spec.series.filter((c) => c.markers && c.labelled)) {
    for (const [x, y] of s.points) {
      if (y < yMin || y > yMax) continue;
      out.push(`<text x='${fmt(px(x))}' y='${fmt(py(y) - 8)}' text-anchor='middle' font-size='9.5' fill='${s.color}' stroke='#fff' stroke-width='3' paint-order='stroke'>${escapeXml(String(y))}</text>`);
    }
  }

  // Legend, on its own row under the title.
  let lx = MARGIN.left;
  for (const s of spec.series.filter((c) => !c.unlisted)) {
    out.push(s.points.length === 0 && s.band
      ? `<rect x='${lx}' y='25' width='16' height='8' fill='${s.color}' fill-opacity='0.25'/>`
      : `<line x1='${lx}' x2='${lx + 16}' y1='29' y2='29' stroke='${s.color}' stroke-width='${Math.max(2, s.width ?? 1.5)}' stroke-opacity='${Math.max(0.5, s.opacity ?? 1)}'/>`);
    out.push(`<text x='${lx + 21}' y='29' dy='0.32em' font-size='10.5' fill='#374151'>${escapeXml(s.name)}</text>`);
    lx += 21 + s.name.length * 6 + 16;
  }
  out.push('</svg>');
  return out.join('');
}
