/**
 * The HTML of search results: a self-contained page with the top-k thumbnails embedded
 * (posapl-search --html), and the live page of posapl-search --serve, which asks the server.
 */
import { escapeXml } from '../eval/svgChart';
import type { SearchResult } from './retrievalIndex';

const STYLE = `
body{font-family:system-ui,sans-serif;margin:24px;color:#222}
form{display:flex;gap:8px;margin-bottom:16px}input[type=search]{flex:1;font-size:16px;padding:6px}
#results{display:grid;grid-template-columns:repeat(auto-fill,minmax(192px,1fr));gap:12px}
figure{margin:0;border:1px solid #ddd;border-radius:4px;overflow:hidden;background:#fafafa}
figure img{width:100%;aspect-ratio:1;object-fit:cover;display:block;cursor:pointer}
figcaption{font-size:12px;padding:4px 6px;word-break:break-all}.score{font-weight:600}
.muted{color:#777}.error{color:#b00}`;

/** One result as a grid cell; `src` is the thumbnail's URL (or data URI). */
export function resultCell(r: SearchResult, src: string | null): string {
  const image = src ? `<img src='${escapeXml(src)}' alt='${escapeXml(r.path)}'>` : `<div class='muted'>unreadable</div>`;
  return `<figure data-rank='${r.rank}' data-path='${escapeXml(r.path)}'>${image}` +
    `<figcaption><span class='score'>${r.score.toFixed(3)}</span> #${r.rank} ${escapeXml(r.path)}</figcaption></figure>`;
}

/** A self-contained page of results, the thumbnails given as data URIs (null: unreadable). */
export function resultsPage(title: string, results: readonly SearchResult[], thumbnails: readonly (string | null)[]): string {
  return `<!doctype html><html><head><meta charset='utf-8'><title>${escapeXml(title)}</title><style>${STYLE}</style></head>` +
    `<body><h1>${escapeXml(title)}</h1><div id='results'>${results.map((r, i) => resultCell(r, thumbnails[i])).join('')}</div></body></html>\n`;
}

/** The live search page: a search box and a grid; clicking an image searches by that image. */
export function livePage(indexName: string, size: number): string {
  return `<!doctype html><html><head><meta charset='utf-8'><title>posapl-search: ${escapeXml(indexName)}</title><style>${STYLE}</style></head>
<body><h1>posapl-search <span class='muted'>${escapeXml(indexName)} · ${size} images</span></h1>
<form id='form'><input type='search' id='q' name='q' placeholder='describe the image, e.g. a river beside a road' autofocus>
<input type='number' id='k' value='20' min='1' max='1000' style='width:5em'><button type='submit'>Search</button></form>
<p id='status' class='muted'></p><div id='results'></div>
<script>
const grid = document.getElementById('results'), status = document.getElementById('status');
const esc = (s) => String(s).replace(/[&<>'"]/g, (c) => '&#' + c.charCodeAt(0) + ';');
async function run(params, label) {
  params.set('k', document.getElementById('k').value || '20');
  status.textContent = 'searching ' + label + ' ...';
  const response = await fetch('/search?' + params);
  const body = await response.json();
  if (!response.ok) { status.innerHTML = "<span class='error'>" + esc(body.error.message) + '</span>'; grid.innerHTML = ''; return; }
  status.textContent = body.results.length + ' results for ' + label;
  grid.innerHTML = body.results.map((r) => "<figure data-rank='" + r.rank + "' data-path='" + esc(r.path) + "'>" +
    "<img src='/thumbnail?path=" + encodeURIComponent(r.path) + "' alt='" + esc(r.path) + "' title='search by this image'>" +
    "<figcaption><span class='score'>" + r.score.toFixed(3) + '</span> #' + r.rank + ' ' + esc(r.path) + '</figcaption></figure>').join('');
  grid.dataset.query = label;
}
document.getElementById('form').addEventListener('submit', (e) => {
  e.preventDefault();
  const q = document.getElementById('q').value.trim();
  if (q) run(new URLSearchParams({ q }), JSON.stringify(q));
});
grid.addEventListener('click', (e) => {
  const figure = e.target.closest('figure');
  if (figure && e.target.tagName === 'IMG') run(new URLSearchParams({ image: figure.dataset.path }), 'image ' + figure.dataset.path);
});
</script></body></html>
`;
}
