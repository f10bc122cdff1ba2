/**
 * The demo's aerial scenes as data: ground, an optional river and road, buildings, ponds and
 * trees, placed in pixels so that nothing overlaps what it must not (roofs and ponds stay whole,
 * so their counts can be read back from the pixels). Captions are written from this description.
 */
import { SeededRandom } from '../seededRandom';

/** The land cover that fills the scene. */
export type Ground = 'fields' | 'farmland' | 'bare' | 'desert' | 'snow' | 'rock' | 'forest' | 'orchard';
/** Roof colours; every building of a scene has the same one. */
export type RoofColour = 'red' | 'white' | 'blue' | 'yellow';
export type Orientation = 'horizontal' | 'vertical';

/** A river whose centre line is a sine along its orientation. */
export interface River {
  orientation: Orientation;
  /** Mean position of the centre line across the flow (pixels). */
  centre: number;
  amplitude: number;
  /** Periods over the image. */
  frequency: number;
  phase: number;
  /** Half the water's width (pixels). */
  halfWidth: number;
}

/** A straight road; with a river it either crosses it (a bridge) or runs beside it. */
export interface Road {
  orientation: Orientation;
  /** Position of the centre line (pixels). */
  position: number;
  halfWidth: number;
  relation: 'crosses-river' | 'along-river' | 'crosses-ground';
}

/** Axis-aligned rectangle, integer pixels, [x, x+w) x [y, y+h). */
export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Ellipse {
  cx: number;
  cy: number;
  rx: number;
  ry: number;
}

export interface Tree {
  cx: number;
  cy: number;
  r: number;
}

/** Where the buildings stand, as the captions say it. */
export type BuildingPlace = 'river' | 'road' | 'ground';
/** How many trees, in caption words: none, a few (2-7) or many (8 or more). */
export type TreeAmount = 'none' | 'few' | 'many';

/** Everything drawn in one image. */
export interface Scene {
  size: number;
  ground: Ground;
  /** Seeds the ground texture (parcels, stripes, noise). */
  textureSeed: number;
  river: River | null;
  road: Road | null;
  buildings: Rect[];
  roofColour: RoofColour;
  buildingPlace: BuildingPlace;
  ponds: Ellipse[];
  trees: Tree[];
  treeAmount: TreeAmount;
}

export const GROUNDS: readonly Ground[] = ['fields', 'farmland', 'bare', 'desert', 'snow', 'rock', 'forest', 'orchard'];
/** Land covers made of trees: they get no separate trees, and no caption says there are none. */
export const WOODED: ReadonlySet<Ground> = new Set<Ground>(['forest', 'orchard']);
export const ROOF_COLOURS: readonly RoofColour[] = ['red', 'white', 'blue', 'yellow'];
/** A river this winding is called winding, a flatter one straight. */
export const WINDING_AMPLITUDE = 0.06;

/** Position of the river's centre line at coordinate u along its flow. */
export function riverCentre(river: River, size: number, u: number): number {
  return river.centre + river.amplitude * Math.sin((2 * Math.PI * river.frequency * u) / size + river.phase);
}

/** Distance across the flow from pixel (x, y) to the river's centre line. */
export function riverDistance(river: River, size: number, x: number, y: number): number {
  return river.orientation === 'horizontal' ? Math.abs(y - riverCentre(river, size, x)) : Math.abs(x - riverCentre(river, size, y));
}

/** Distance across the road from pixel (x, y) to its centre line. */
export function roadDistance(road: Road, x: number, y: number): number {
  return road.orientation === 'horizontal' ? Math.abs(y - road.position) : Math.abs(x - road.position);
}

/** Pixels already taken (water, road, roofs, ponds, each with a margin). */
class Occupancy {
  private readonly mask: Uint8Array;

  constructor(private readonly size: number) {
    this.mask = new Uint8Array(size * size);
  }

  mark(test: (x: number, y: number) => boolean): void {
    const S = this.size;
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) if (test(x, y)) this.mask[y * S + x] = 1;
  }

  markRect(x0: number, y0: number, x1: number, y1: number): void {
    const S = this.size;
    for (let y = Math.max(0, y0); y < Math.min(S, y1); y++) for (let x = Math.max(0, x0); x < Math.min(S, x1); x++) this.mask[y * S + x] = 1;
  }

  freeRect(x0: number, y0: number, x1: number, y1: number): boolean {
    const S = this.size;
    if (x0 < 0 || y0 < 0 || x1 > S || y1 > S) return false;
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (this.mask[y * S + x]) return false;
    return true;
  }
}

const MARGIN = 2;
const ATTEMPTS = 200;

/** Draws a scene of `size` x `size` pixels (size >= 32) from `random`. */
export function sampleScene(random: SeededRandom, size: number): Scene {
  const S = size;
  const ground = random.pick(GROUNDS);
  const textureSeed = random.integer(0, 0x80000000);
  const occupied = new Occupancy(S);

  const river: River | null = random.chance(0.55)
    ? {
      orientation: random.chance(0.5) ? 'horizontal' : 'vertical',
      centre: random.uniform(0.3, 0.7) * S,
      amplitude: random.chance(0.5) ? random.uniform(0.08, 0.14) * S : random.uniform(0, 0.03) * S,
      frequency: random.uniform(0.5, 1.3),
      phase: random.uniform(0, 2 * Math.PI),
      halfWidth: random.uniform(0.05, 0.08) * S,
    }
    : null;
  if (river) occupied.mark((x, y) => riverDistance(river, S, x, y) < river.halfWidth + MARGIN + 1);

  const road = sampleRoad(random, S, river);
  if (road) occupied.mark((x, y) => roadDistance(road, x, y) < road.halfWidth + MARGIN + 1);

  // Buildings: where they stand first, then as many of the drawn count as fit.
  const roofColour = random.pick(ROOF_COLOURS);
  const wanted = random.weighted([0.2, 0.25, 0.2, 0.2, 0.15]);
  const places: BuildingPlace[] = ['ground'];
  if (river) places.push('river', 'river');
  if (road) places.push('road', 'road');
  const buildingPlace = random.pick(places);
  const near = (r: Rect): boolean => {
    const reach = 0.1 * S;
    const corners = [[r.x, r.y], [r.x + r.w, r.y], [r.x, r.y + r.h], [r.x + r.w, r.y + r.h]];
    if (buildingPlace === 'river' && river) return corners.some(([x, y]) => riverDistance(river, S, x, y) - river.halfWidth < reach);
    if (buildingPlace === 'road' && road) return corners.some(([x, y]) => roadDistance(road, x, y) - road.halfWidth < reach);
    return true;
  };
  const buildings: Rect[] = [];
  for (let attempt = 0; attempt < ATTEMPTS && buildings.length < wanted; attempt++) {
    const w = Math.round(random.uniform(0.11, 0.17) * S);
    const h = Math.round(random.uniform(0.11, 0.17) * S);
    const rect = { x: random.integer(1, S - w - 1), y: random.integer(1, S - h - 1), w, h };
    // The shadow falls one pixel right and down; the margin keeps roofs apart.
    if (!near(rect) || !occupied.freeRect(rect.x - MARGIN, rect.y - MARGIN, rect.x + w + 1 + MARGIN, rect.y + h + 1 + MARGIN)) continue;
    occupied.markRect(rect.x - MARGIN, rect.y - MARGIN, rect.x + w + 1 + MARGIN, rect.y + h + 1 + MARGIN);
    buildings.push(rect);
  }

  const ponds: Ellipse[] = [];
  const pondsWanted = random.weighted([0.4, 0.25, 0.2, 0.15]);
  for (let attempt = 0; attempt < ATTEMPTS && ponds.length < pondsWanted; attempt++) {
    const rx = random.uniform(0.05, 0.09) * S;
    const ry = random.uniform(0.05, 0.09) * S;
    const cx = random.uniform(rx + 1, S - rx - 1);
    const cy = random.uniform(ry + 1, S - ry - 1);
    const box = [Math.floor(cx - rx) - MARGIN, Math.floor(cy - ry) - MARGIN, Math.ceil(cx + rx) + 1 + MARGIN, Math.ceil(cy + ry) + 1 + MARGIN] as const;
    if (!occupied.freeRect(...box)) continue;
    occupied.markRect(...box);
    ponds.push({ cx, cy, rx, ry });
  }

  const treeAmount: TreeAmount = WOODED.has(ground) ? 'none' : (['none', 'few', 'many'] as const)[random.weighted([0.3, 0.35, 0.35])];
  const treesWanted = treeAmount === 'none' ? 0 : treeAmount === 'few' ? random.integer(2, 5) : random.integer(8, 15);
  const trees: Tree[] = [];
  for (let attempt = 0; attempt < ATTEMPTS * 2 && trees.length < treesWanted; attempt++) {
    const r = random.uniform(0.03, 0.045) * S;
    const cx = random.uniform(r + 1, S - r - 2);
    const cy = random.uniform(r + 1, S - r - 2);
    // Trees may overlap one another (groves) but never roofs, ponds, water or road.
    if (!occupied.freeRect(Math.floor(cx - r), Math.floor(cy - r), Math.ceil(cx + r) + 2, Math.ceil(cy + r) + 2)) continue;
    trees.push({ cx, cy, r });
  }
  // A few must stay a few and many must stay many, whatever fitted.
  const placedAmount: TreeAmount = trees.length >= 8 ? 'many' : trees.length >= 2 ? 'few' : 'none';
  if (placedAmount === 'none') trees.length = 0;

  return { size: S, ground, textureSeed, river, road, buildings, roofColour, buildingPlace: buildings.length ? buildingPlace : 'ground', ponds, trees, treeAmount: placedAmount };
}

function sampleRoad(random: SeededRandom, S: number, river: River | null): Road | null {
  if (!random.chance(river ? 0.55 : 0.5)) return null;
  const halfWidth = random.uniform(0.04, 0.06) * S;
  if (!river) {
    return { orientation: random.chance(0.5) ? 'horizontal' : 'vertical', position: random.uniform(0.2, 0.8) * S, halfWidth, relation: 'crosses-ground' };
  }
  const across: Orientation = river.orientation === 'horizontal' ? 'vertical' : 'horizontal';
  if (random.chance(0.4)) {
    // Beside the river: parallel, clear of its widest swing, on whichever side has room.
    const gap = river.amplitude + river.halfWidth + halfWidth + 0.06 * S;
    const sides = [river.centre - gap, river.centre + gap].filter((p) => p - halfWidth > 0.05 * S && p + halfWidth < 0.95 * S);
    if (sides.length) return { orientation: river.orientation, position: random.pick(sides), halfWidth, relation: 'along-river' };
  }
  return { orientation: across, position: random.uniform(0.2, 0.8) * S, halfWidth, relation: 'crosses-river' };
}
