/**
 * State-dict names of open_clip and of POSAPL (spec section 10), the mapping between them, and
 * a report of missing, unexpected and mis-shaped tensors.
 *
 * open_clip keeps the text tower at the top level (`token_embedding.weight`, `transformer.*`,
 * ...) and the vision tower under `visual.`. POSAPL moves the text tower under `text.` and adds
 * adapters; each per-block adapter also appears under a second name inside its block
 * (`visual.transformer.resblocks.{l}.adapter.*` is `adapter_img.{l}.*`), because the authors'
 * modules register the same adapter twice.
 */

/** The parts of an open_clip model config (e.g. ViT-B-32.json) that decide names and shapes. */
export interface ClipShapeConfig {
  embed_dim: number;
  vision_cfg: { image_size: number; layers: number; width: number; patch_size: number; mlp_ratio?: number };
  text_cfg: { context_length: number; vocab_size: number; width: number; layers: number; mlp_ratio?: number };
}

/** Which POSAPL adapters exist (spec section 9). */
export interface PosaplLayoutOptions {
  /** RSICD: per-layer POS adapters `adapter_pos.{l}` (aliased `text.transformer.resblocks.{l}.adapter2`). */
  posSide: boolean;
  /** Width of the SA-adapters (128). */
  adapterWidth?: number;
  /** Width of the per-layer POS adapters (128). */
  posAdapterWidth?: number;
  /** Also list the per-block alias names, as the authors' `state_dict()` does (default false). */
  aliases?: boolean;
}

/** Missing, unexpected and mis-shaped tensors of a state dict, by name. */
export interface StateDictReport {
  /** Expected names the state dict lacks. */
  missing: string[];
  /** Names the state dict has but nothing expects. */
  unexpected: string[];
  /** Names present on both sides with different shapes. */
  shapeMismatches: Array<{ name: string; expected: number[]; actual: number[] }>;
  /** True when all three lists are empty. */
  ok: boolean;
}

// Side Fusion taps blocks L-7..L-1, so shallower towers have none (spec section 1).
const SIDE_FUSION_MIN_LAYERS = 7;
const TEXT_TOWER_NAMES = ['token_embedding', 'positional_embedding', 'transformer', 'ln_final', 'text_projection'];

type Shapes = Map<string, number[]>;

function addBlock(shapes: Shapes, prefix: string, width: number, mlpRatio: number): void {
  const hidden = Math.round(width * mlpRatio);
  shapes.set(`${prefix}.ln_1.weight`, [width]);
  shapes.set(`${prefix}.ln_1.bias`, [width]);
  shapes.set(`${prefix}.attn.in_proj_weight`, [3 * width, width]);
  shapes.set(`${prefix}.attn.in_proj_bias`, [3 * width]);
  shapes.set(`${prefix}.attn.out_proj.weight`, [width, width]);
  shapes.set(`${prefix}.attn.out_proj.bias`, [width]);
  shapes.set(`${prefix}.ln_2.weight`, [width]);
  shapes.set(`${prefix}.ln_2.bias`, [width]);
  shapes.set(`${prefix}.mlp.c_fc.weight`, [hidden, width]);
  shapes.set(`${prefix}.mlp.c_fc.bias`, [hidden]);
  shapes.set(`${prefix}.mlp.c_proj.weight`, [width, hidden]);
  shapes.set(`${prefix}.mlp.c_proj.bias`, [width]);
}

function addLinear(shapes: Shapes, prefix: string, inFeatures: number, outFeatures: number): void {
  shapes.set(`${prefix}.weight`, [outFeatures, inFeatures]);
  shapes.set(`${prefix}.bias`, [outFeatures]);
}

/** AdapterSAZeroInit: l1 (D->a), l2 (a->D), msa (MultiheadAttention over a). */
function addSaAdapter(shapes: Shapes, prefix: string, width: number, adapterWidth: number): void {
  addLinear(shapes, `${prefix}.l1`, width, adapterWidth);
  addLinear(shapes, `${prefix}.l2`, adapterWidth, width);
  shapes.set(`${prefix}.msa.in_proj_weight`, [3 * adapterWidth, adapterWidth]);
  shapes.set(`${prefix}.msa.in_proj_bias`, [3 * adapterWidth]);
  addLinear(shapes, `${prefix}.msa.out_proj`, adapterWidth, adapterWidth);
}

/** AdapterMLPZeroInit: l1 (D->a), l2 (a->D). */
function addMlpAdapter(shapes: Shapes, prefix: string, width: number, adapterWidth: number): void {
  addLinear(shapes, `${prefix}.l1`, width, adapterWidth);
  addLinear(shapes, `${prefix}.l2`, adapterWidth, width);
}

function visionTokens(config: ClipShapeConfig): number {
  return (Math.floor(config.vision_cfg.image_size / config.vision_cfg.patch_size) ** 2) + 1;
}

/** Names and shapes of an open_clip CLIP state dict, in open_clip's order. */
export function openClipShapes(config: ClipShapeConfig): Map<string, number[]> {
  const { embed_dim: embed, vision_cfg: v, text_cfg: t } = config;
  const shapes: Shapes = new Map();
  shapes.set('positional_embedding', [t.context_length, t.width]);
  shapes.set('text_projection', [t.width, embed]);
  shapes.set('logit_scale', []);
  shapes.set('visual.class_embedding', [v.width]);
  shapes.set('visual.positional_embedding', [visionTokens(config), v.width]);
  shapes.set('visual.proj', [v.width, embed]);
  shapes.set('visual.conv1.weight', [v.width, 3, v.patch_size, v.patch_size]);
  shapes.set('visual.ln_pre.weight', [v.width]);
  shapes.set('visual.ln_pre.bias', [v.width]);
  for (let l = 0; l < v.layers; l++) addBlock(shapes, `visual.transformer.resblocks.${l}`, v.width, v.mlp_ratio ?? 4);
  shapes.set('visual.ln_post.weight', [v.width]);
  shapes.set('visual.ln_post.bias', [v.width]);
  for (let l = 0; l < t.layers; l++) addBlock(shapes, `transformer.resblocks.${l}`, t.width, t.mlp_ratio ?? 4);
  shapes.set('token_embedding.weight', [t.vocab_size, t.width]);
  shapes.set('ln_final.weight', [t.width]);
  shapes.set('ln_final.bias', [t.width]);
  return shapes;
}

/**
 * Names and shapes of a POSAPL state dict (canonical names; the per-block aliases too when
 * `options.aliases`), in the order of the authors' modules.
 */
export function posaplShapes(config: ClipShapeConfig, options: PosaplLayoutOptions): Map<string, number[]> {
  const v = config.vision_cfg;
  const t = config.text_cfg;
  const adapterWidth = options.adapterWidth ?? 128;
  const posWidth = options.posAdapterWidth ?? 128;
  const backbone = openClipToPosapl(openClipShapes(config));
  const shapes: Shapes = new Map();
  shapes.set('logit_scale', []);
  for (let l = 0; l < v.layers; l++) addSaAdapter(shapes, `adapter_img.${l}`, v.width, adapterWidth);
  for (let l = 0; l < t.layers; l++) addSaAdapter(shapes, `adapter_text.${l}`, t.width, adapterWidth);
  if (options.posSide) for (let l = 0; l < t.layers; l++) addMlpAdapter(shapes, `adapter_pos.${l}`, t.width, posWidth);
  for (const [name, shape] of backbone) if (name.startsWith('visual.')) shapes.set(name, shape);
  if (v.layers >= SIDE_FUSION_MIN_LAYERS) {
    for (const k of [1, 2, 3]) addLinear(shapes, `visual.adapter.adapter_${k}.0`, v.width, v.width);
    // Vision adapter_4 is Sequential(PatchMean, Linear): its Linear is index 1.
    addLinear(shapes, 'visual.adapter.adapter_4.1', v.width, v.width);
  }
  // The authors' text tower registers its own parameters before its token embedding.
  for (const name of ['text.positional_embedding', 'text.text_projection', 'text.token_embedding.weight']) {
    shapes.set(name, backbone.get(name) as number[]);
  }
  for (const [name, shape] of backbone) if (name.startsWith('text.') && !shapes.has(name)) shapes.set(name, shape);
  if (t.layers >= SIDE_FUSION_MIN_LAYERS) {
    for (const k of [1, 2, 3, 4]) addLinear(shapes, `text.adapter.adapter_${k}.0`, t.width, t.width);
  }
  addMlpAdapter(shapes, 'text.adapter_mlp', t.width, t.width);
  return options.aliases ? addPosaplAliases(shapes) : shapes;
}

const ALIASES: ReadonlyArray<{ canonical: RegExp; alias: RegExp; toAlias: string; toCanonical: string }> = [
  { canonical: /^adapter_img\.(\d+)\.(.+)$/, alias: /^visual\.transformer\.resblocks\.(\d+)\.adapter\.(.+)$/, toAlias: 'visual.transformer.resblocks.$1.adapter.$2', toCanonical: 'adapter_img.$1.$2' },
  { canonical: /^adapter_text\.(\d+)\.(.+)$/, alias: /^text\.transformer\.resblocks\.(\d+)\.adapter\.(.+)$/, toAlias: 'text.transformer.resblocks.$1.adapter.$2', toCanonical: 'adapter_text.$1.$2' },
  { canonical: /^adapter_pos\.(\d+)\.(.+)$/, alias: /^text\.transformer\.resblocks\.(\d+)\.adapter2\.(.+)$/, toAlias: 'text.transformer.resblocks.$1.adapter2.$2', toCanonical: 'adapter_pos.$1.$2' },
];

/** The canonical POSAPL name of `name`: per-block aliases map to `adapter_img/adapter_text/adapter_pos`. */
export function canonicalPosaplName(name: string): string {
  for (const a of ALIASES) if (a.alias.test(name)) return name.replace(a.alias, a.toCanonical);
  return name;
}

/** The per-block alias of a canonical per-block adapter name, or undefined when it has none. */
export function posaplAliasName(name: string): string | undefined {
  for (const a of ALIASES) if (a.canonical.test(name)) return name.replace(a.canonical, a.toAlias);
  return undefined;
}

/**
 * A copy of `stateDict` with each per-block adapter also under its alias, the same value under
 * both names (saved as torch, they stay one tensor). The authors' PyTorch model loads it strictly.
 */
export function addPosaplAliases<T>(stateDict: Map<string, T>): Map<string, T> {
  const out = new Map(stateDict);
  for (const [name, value] of stateDict) {
    const alias = posaplAliasName(name);
    if (alias !== undefined && !out.has(alias)) out.set(alias, value);
  }
  return out;
}

/** A copy of `stateDict` with aliases dropped, or renamed to their canonical name when that is absent. */
export function removePosaplAliases<T>(stateDict: Map<string, T>): Map<string, T> {
  const out = new Map<string, T>();
  for (const [name, value] of stateDict) {
    const canonical = canonicalPosaplName(name);
    if (canonical === name || !stateDict.has(canonical)) {
      if (!out.has(canonical)) out.set(canonical, value);
    }
  }
  return out;
}

function isTextTowerName(name: string): boolean {
  return TEXT_TOWER_NAMES.some((p) => name === p || name.startsWith(`${p}.`));
}

/** open_clip names to POSAPL names: the text tower moves under `text.`; `visual.*` and `logit_scale` stay. */
export function openClipToPosapl<T>(stateDict: Map<string, T>): Map<string, T> {
  return new Map([...stateDict].map(([name, value]) => [isTextTowerName(name) ? `text.${name}` : name, value]));
}

/**
 * POSAPL names to open_clip names: the backbone only (adapters, whose module names contain
 * `adapter`, are dropped), with the text tower back at the top level.
 */
export function posaplToOpenClip<T>(stateDict: Map<string, T>): Map<string, T> {
  const out = new Map<string, T>();
  for (const [name, value] of stateDict) {
    if (name.includes('adapter')) continue;
    const inner = name.startsWith('text.') ? name.slice('text.'.length) : name;
    out.set(isTextTowerName(inner) ? inner : name, value);
  }
  return out;
}

/** Compares the names and shapes of `actual` with those `expected` (e.g. from {@link posaplShapes}). */
export function checkStateDict(
  actual: Map<string, { shape: readonly number[] }>,
  expected: Map<string, readonly number[]>,
): StateDictReport {
  const missing: string[] = [];
  const unexpected: string[] = [];
  const shapeMismatches: StateDictReport['shapeMismatches'] = [];
  for (const [name, shape] of expected) {
    const got = actual.get(name);
    if (!got) missing.push(name);
    else if (got.shape.length !== shape.length || got.shape.some((d, i) => d !== shape[i])) {
      shapeMismatches.push({ name, expected: [...shape], actual: [...got.shape] });
    }
  }
  for (const name of actual.keys()) if (!expected.has(name)) unexpected.push(name);
  return { missing, unexpected, shapeMismatches, ok: !missing.length && !unexpected.length && !shapeMismatches.length };
}

/** A few readable lines summarising a report (at most `limit` names per list). */
export function formatStateDictReport(report: StateDictReport, limit = 10): string {
  if (report.ok) return 'state dict matches: no missing, unexpected or mis-shaped tensors';
  const list = (names: string[]): string => names.slice(0, limit).join(', ') + (names.length > limit ? `, ... (${names.length - limit} more)` : '');
  const lines: string[] = [];
  if (report.missing.length) lines.push(`${report.missing.length} missing: ${list(report.missing)}`);
  if (report.unexpected.length) lines.push(`${report.unexpected.length} unexpected: ${list(report.unexpected)}`);
  if (report.shapeMismatches.length) {
    lines.push(
      `${report.shapeMismatches.length} with other shapes: ${list(report.shapeMismatches.map((m) => `${m.name} [${m.actual.join(', ')}] (expected [${m.expected.join(', ')}])`))}`,
    );
  }
  return lines.join('\n');
}
