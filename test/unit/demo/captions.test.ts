/**
 * The demo's captions say what is drawn: counts, colours, relations and land cover are checked
 * against the scene description, and the counts against the rendered pixels.
 */
import { demoSample } from '../../../src/demo/dataset';
import { POND_RGB, ROOF_RGB, Rgb } from '../../../src/demo/render';
import { Ground, riverDistance, roadDistance, Scene, WINDING_AMPLITUDE, WOODED } from '../../../src/demo/scene';

const SIZE = 64;
const SAMPLES = Array.from({ length: 240 }, (_, i) => demoSample(11, i % 2 ? 'test' : 'train', i, SIZE));

const NUMBERS: Record<string, number> = { a: 1, one: 1, two: 2, three: 3, four: 4 };
const GROUND_OF: Array<[RegExp, Ground]> = [
  [/green fields|green meadow/, 'fields'], [/farmland|crop fields/, 'farmland'], [/bare land|bare soil/, 'bare'],
  [/desert|sand dunes/, 'desert'], [/snow/, 'snow'], [/rocky land|grey rocks/, 'rock'], [/forest|woodland/, 'forest'], [/orchard/, 'orchard'],
];

/** Connected regions (4-neighbour) of pixels exactly `rgb`. */
function regions(pixels: Uint8Array, size: number, rgb: Rgb): number {
  const seen = new Uint8Array(size * size);
  const is = (p: number) => pixels[p * 3] === rgb[0] && pixels[p * 3 + 1] === rgb[1] && pixels[p * 3 + 2] === rgb[2];
  let count = 0;
  for (let start = 0; start < size * size; start++) {
    if (seen[start] || !is(start)) continue;
    count++;
    const stack = [start];
    seen[start] = 1;
    while (stack.length) {
      const p = stack.pop() as number;
      const x = p % size;
      for (const q of [x > 0 ? p - 1 : -1, x < size - 1 ? p + 1 : -1, p - size, p + size]) {
        if (q >= 0 && q < size * size && !seen[q] && is(q)) {
          seen[q] = 1;
          stack.push(q);
        }
      }
    }
  }
  return count;
}

function facts(caption: string, scene: Scene): void {
  const c = caption.toLowerCase();
  const where = `${JSON.stringify(caption)} for ${JSON.stringify({ ...scene, textureSeed: undefined })}`;
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new Error(`${what}: ${where}`);
  };
  const buildings = c.match(/\b(a|one|two|three|four) (?:(red|white|blue|yellow) )?(?:building|house)s?\b/);
  if (buildings) {
    check(NUMBERS[buildings[1]] === scene.buildings.length, 'building count');
    if (buildings[2]) check(buildings[2] === scene.roofColour, 'roof colour');
  }
  if (/no buildings|without buildings/.test(c)) check(scene.buildings.length === 0, 'no buildings');
  const ponds = c.match(/\b(a|one|two|three|four) ponds?\b/);
  if (ponds) check(NUMBERS[ponds[1]] === scene.ponds.length, 'pond count');
  if (/many trees/.test(c)) check(scene.treeAmount === 'many' && scene.trees.length >= 8, 'many trees');
  if (/a few trees|some trees/.test(c)) check(scene.treeAmount === 'few' && scene.trees.length >= 2 && scene.trees.length < 8, 'a few trees');
  if (/no trees/.test(c)) check(scene.trees.length === 0 && !WOODED.has(scene.ground), 'no trees');
  if (/river|bridge/.test(c)) check(scene.river !== null, 'river');
  if (/winding river/.test(c)) check((scene.river?.amplitude ?? 0) >= WINDING_AMPLITUDE * SIZE, 'winding');
  if (/straight river/.test(c)) check((scene.river?.amplitude ?? 1e9) < WINDING_AMPLITUDE * SIZE, 'straight');
  if (/road|bridge/.test(c)) check(scene.road !== null, 'road');
  if (/crosses the river|bridge/.test(c)) check(scene.road?.relation === 'crosses-river', 'road crosses river');
  if (/road along the river|road runs by the river/.test(c)) check(scene.road?.relation === 'along-river', 'road along river');
  if (/no water/.test(c)) check(!scene.river && scene.ponds.length === 0, 'no water');
  if (/(building|house)s? (near the river|by the river|on the river bank)/.test(c)) check(scene.buildingPlace === 'river', 'buildings by the river');
  if (/(building|house)s? (along|by) the road/.test(c)) check(scene.buildingPlace === 'road', 'buildings by the road');
  for (const [pattern, ground] of GROUND_OF) if (pattern.test(c)) check(scene.ground === ground, `land cover ${ground}`);
  // The training pipeline flips images, so no caption may say left or right.
  check(!/\b(left|right)\b/.test(c), 'left/right');
}

describe('demo captions', () => {
  it('give five captions per image that state only what the scene holds', () => {
    for (const s of SAMPLES) {
      expect(s.captions).toHaveLength(5);
      for (const caption of s.captions) {
        expect(caption).toMatch(/^[A-Z][a-z ]+\.$/);
        facts(caption, s.scene);
      }
    }
  });

  it('speak of every kind of fact somewhere, and mostly vary within an image', () => {
    const all = SAMPLES.flatMap((s) => s.captions).join('\n').toLowerCase();
    for (const word of ['two', 'three', 'four', 'pond', 'many trees', 'a few trees', 'no trees', 'winding river', 'crosses the river', 'road along the river', 'by the road', 'near the river', 'without buildings', 'no water', 'red', 'white', 'blue', 'yellow']) {
      expect(all).toContain(word);
    }
    for (const [pattern] of GROUND_OF) expect(all).toMatch(pattern);
    const distinct = SAMPLES.reduce((n, s) => n + new Set(s.captions).size, 0) / SAMPLES.length;
    expect(distinct).toBeGreaterThan(4.5);
  });

  it('count as many roofs and ponds as the pixels show, in the caption colour', () => {
    for (const s of SAMPLES) {
      expect(regions(s.rgb, SIZE, ROOF_RGB[s.scene.roofColour])).toBe(s.scene.buildings.length);
      expect(regions(s.rgb, SIZE, POND_RGB)).toBe(s.scene.ponds.length);
      for (const colour of Object.keys(ROOF_RGB) as Array<keyof typeof ROOF_RGB>) {
        if (colour !== s.scene.roofColour) expect(regions(s.rgb, SIZE, ROOF_RGB[colour])).toBe(0);
      }
    }
  });

  it('place buildings said to be by the river or road within reach of it, never on it', () => {
    for (const { scene } of SAMPLES) {
      for (const b of scene.buildings) {
        const corners = [[b.x, b.y], [b.x + b.w, b.y], [b.x, b.y + b.h], [b.x + b.w, b.y + b.h]];
        const centre = [b.x + b.w / 2, b.y + b.h / 2] as const;
        if (scene.river) expect(riverDistance(scene.river, SIZE, ...centre)).toBeGreaterThan(scene.river.halfWidth);
        if (scene.road) expect(roadDistance(scene.road, ...centre)).toBeGreaterThan(scene.road.halfWidth);
        if (scene.buildingPlace === 'river' && scene.river) {
          const river = scene.river;
          expect(Math.min(...corners.map(([x, y]) => riverDistance(river, SIZE, x, y) - river.halfWidth))).toBeLessThan(0.1 * SIZE);
        }
        if (scene.buildingPlace === 'road' && scene.road) {
          const road = scene.road;
          expect(Math.min(...corners.map(([x, y]) => roadDistance(road, x, y) - road.halfWidth))).toBeLessThan(0.1 * SIZE);
        }
      }
    }
  });
});
