/**
 * Draws a {@link Scene} into an 8-bit RGB buffer, seen from above: textured ground, a river
 * with sandy banks, a grey road with a dashed centre line, ponds, trees and flat-roofed
 * buildings with their shadows. Roofs and ponds are flat colours found nowhere else, so a
 * lossless file can be checked against the scene's counts.
 */
import { hashSeed } from '../seededRandom';
import { Ground, RoofColour, Scene, riverDistance, roadDistance } from './scene';

export type Rgb = readonly [number, number, number];

/** Flat roof colours by caption word. */
export const ROOF_RGB: Readonly<Record<RoofColour, Rgb>> = {
  red: [196, 48, 40],
  white: [238, 238, 230],
  blue: [52, 84, 190],
  yellow: [236, 204, 40],
};
/** The flat colour of ponds (the river is darker and textured). */
export const POND_RGB: Rgb = [56, 112, 168];

const WATER: Rgb = [42, 86, 138];
const BANK: Rgb = [176, 162, 120];
const ROAD: Rgb = [126, 126, 124];
const ROAD_LINE: Rgb = [226, 226, 214];
const TREE: Rgb = [34, 90, 38];
const TREE_SHADOW: Rgb = [26, 44, 22];
const ROOF_SHADOW: Rgb = [44, 42, 40];
const CROPS: readonly Rgb[] = [[204, 184, 96], [116, 154, 64], [174, 144, 96], [146, 170, 80]];

/** A hash of (x, y, seed) as a number in [-1, 1]: per-pixel noise without a generator. */
function noise(x: number, y: number, seed: number): number {
  return (hashSeed(seed, x, y) / 0xffffffff) * 2 - 1;
}

/** Uniform in [0, 1) from a seed and a counter (texture layout). */
function unit(seed: number, k: number): number {
  return (noise(k, 7919, seed) + 1) / 2;
}

function clampByte(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}

/** The scene as (size, size, 3) RGB bytes, row-major. */
export function renderScene(scene: Scene): Uint8Array {
  const S = scene.size;
  const rgb = new Uint8Array(S * S * 3);
  const put = (x: number, y: number, c: Rgb, jitter = 0, seed = 0) => {
    const i = (y * S + x) * 3;
    const n = jitter ? jitter * noise(x, y, seed) : 0;
    rgb[i] = clampByte(c[0] + n);
    rgb[i + 1] = clampByte(c[1] + n);
    rgb[i + 2] = clampByte(c[2] + n);
  };

  drawGround(rgb, S, scene.ground, scene.textureSeed);

  const { river, road } = scene;
  if (river) {
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const d = riverDistance(river, S, x + 0.5, y + 0.5);
        if (d < river.halfWidth) put(x, y, WATER, 6, scene.textureSeed + 1);
        else if (d < river.halfWidth + 1.5) put(x, y, BANK, 8, scene.textureSeed + 2);
      }
    }
  }
  if (road) {
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const d = roadDistance(road, x + 0.5, y + 0.5);
        if (d >= road.halfWidth) continue;
        const along = road.orientation === 'horizontal' ? x : y;
        const dashed = road.halfWidth >= 2.5 && d < 0.6 && along % 6 < 3;
        put(x, y, dashed ? ROAD_LINE : ROAD, dashed ? 0 : 4, scene.textureSeed + 3);
      }
    }
  }
  for (const p of scene.ponds) {
    fillWhere(S, Math.floor(p.cx - p.rx), Math.floor(p.cy - p.ry), Math.ceil(p.cx + p.rx), Math.ceil(p.cy + p.ry),
      (x, y) => ((x + 0.5 - p.cx) / p.rx) ** 2 + ((y + 0.5 - p.cy) / p.ry) ** 2 <= 1, (x, y) => put(x, y, POND_RGB));
  }
  const disc = (cx: number, cy: number, r: number, paint: (x: number, y: number) => void) =>
    fillWhere(S, Math.floor(cx - r), Math.floor(cy - r), Math.ceil(cx + r), Math.ceil(cy + r), (x, y) => (x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= r * r, paint);
  for (const t of scene.trees) disc(t.cx + 1, t.cy + 1, t.r, (x, y) => put(x, y, TREE_SHADOW));
  for (const t of scene.trees) disc(t.cx, t.cy, t.r, (x, y) => put(x, y, TREE, 12, scene.textureSeed + 4));
  const roof = ROOF_RGB[scene.roofColour];
  for (const b of scene.buildings) {
    fillWhere(S, b.x + 1, b.y + 1, b.x + b.w + 1, b.y + b.h + 1, () => true, (x, y) => put(x, y, ROOF_SHADOW));
    fillWhere(S, b.x, b.y, b.x + b.w, b.y + b.h, () => true, (x, y) => put(x, y, roof));
  }
  return rgb;
}

function fillWhere(S: number, x0: number, y0: number, x1: number, y1: number, inside: (x: number, y: number) => boolean, paint: (x: number, y: number) => void): void {
  for (let y = Math.max(0, y0); y < Math.min(S, y1); y++) {
    for (let x = Math.max(0, x0); x < Math.min(S, x1); x++) if (inside(x, y)) paint(x, y);
  }
}

/**
 * Land cover: meadow bands, striped crop parcels, blotchy soil, rippled sand, shaded snow,
 * cracked rock, a bumpy canopy or an orchard's grid of crowns.
 */
function drawGround(rgb: Uint8Array, S: number, ground: Ground, seed: number): void {
  const cuts = (k: number, n: number) => [0, ...Array.from({ length: n - 1 }, (_, i) => Math.round(((i + 1) / n + (unit(seed, k + i) - 0.5) / (2 * n)) * S)), S];
  const xCuts = cuts(10, 2 + Math.floor(unit(seed, 1) * 2));
  const yCuts = cuts(20, 2 + Math.floor(unit(seed, 2) * 2));
  const cell = (v: number, c: number[]) => {
    let i = 0;
    while (v >= c[i + 1]) i++;
    return i;
  };
  const phase = [unit(seed, 3), unit(seed, 4), unit(seed, 5)].map((u) => u * 2 * Math.PI);
  const angle = unit(seed, 6) * Math.PI;
  const spacing = Math.max(4, Math.round(S / 16));
  const offset = Math.floor(unit(seed, 7) * spacing);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      let c: Rgb;
      let shade = 0;
      const px = cell(x, xCuts);
      const py = cell(y, yCuts);
      const parcel = py * 4 + px;
      switch (ground) {
        case 'fields':
          c = [88, 134, 60];
          shade = (unit(seed, 40 + parcel) - 0.5) * 22 + 9 * noise(x, y, seed);
          break;
        case 'farmland': {
          c = CROPS[Math.floor(unit(seed, 60 + parcel) * CROPS.length)];
          const rowsAcross = unit(seed, 80 + parcel) < 0.5 ? x : y;
          shade = (rowsAcross % 3 === 0 ? -16 : 4) + 5 * noise(x, y, seed);
          break;
        }
        case 'bare':
          c = [150, 118, 84];
          shade = 9 * Math.sin(x * 0.21 + phase[0]) * Math.sin(y * 0.17 + phase[1]) + 7 * Math.sin((x + y) * 0.09 + phase[2]) + 8 * noise(x, y, seed);
          break;
        case 'desert':
          c = [222, 198, 148];
          shade = 10 * Math.sin((x * Math.cos(angle) + y * Math.sin(angle)) * 0.55 + phase[0]) + 5 * noise(x, y, seed);
          break;
        case 'snow':
          c = [214, 224, 236];
          shade = 7 * Math.sin(x * 0.13 + phase[0]) * Math.sin(y * 0.11 + phase[1]) + 4 * noise(x, y, seed);
          break;
        case 'rock': {
          c = [150, 146, 140];
          const crack = Math.abs(Math.sin(x * 0.35 + y * 0.2 + phase[0])) < 0.08 || Math.abs(Math.sin(x * 0.15 - y * 0.4 + phase[1])) < 0.08;
          shade = (crack ? -38 : 0) + 8 * Math.sin(x * 0.12 + phase[2]) * Math.sin(y * 0.1 + phase[0]) + 6 * noise(x, y, seed);
          break;
        }
        case 'forest':
          c = [40, 84, 40];
          shade = 13 * Math.sin(x * 0.9 + phase[0]) * Math.sin(y * 0.9 + phase[1]) + 9 * noise(x, y, seed);
          break;
        default: {
          // Orchard: crowns on a regular grid over light grass.
          const gx = ((x + offset) % spacing) - spacing / 2 + 0.5;
          const gy = ((y + offset) % spacing) - spacing / 2 + 0.5;
          const crown = gx * gx + gy * gy < (spacing * spacing) / 9;
          c = crown ? [44, 96, 44] : [128, 150, 82];
          shade = 6 * noise(x, y, seed);
        }
      }
      const i = (y * S + x) * 3;
      rgb[i] = clampByte(c[0] + shade);
      rgb[i + 1] = clampByte(c[1] + shade);
      rgb[i + 2] = clampByte(c[2] + shade);
    }
  }
}

