/**
 * Five captions per scene from a small grammar: each caption picks one to three true facts of
 * the scene (land cover, river, road and how they meet, roof colour and count, where the
 * buildings stand, ponds, trees) and says them briefly with varied words. Counts and relations
 * follow the scene exactly; left and right are never said, since the training pipeline flips
 * images.
 */
import { SeededRandom } from '../seededRandom';
import { Ground, Scene, WINDING_AMPLITUDE, WOODED } from './scene';

/** Words for counts 1..4 (buildings and ponds never exceed four). */
const NUMBER_WORDS = ['', 'one', 'two', 'three', 'four'];

/** Ways to name each land cover: with an article where a noun phrase needs one. */
const GROUND_WORDS: Readonly<Record<Ground, readonly string[]>> = {
  fields: ['green fields', 'a green meadow'],
  farmland: ['farmland', 'crop fields'],
  bare: ['bare land', 'bare soil'],
  desert: ['a desert', 'sand dunes'],
  snow: ['snow', 'snowy land'],
  rock: ['rocky land', 'grey rocks'],
  forest: ['a forest', 'woodland'],
  orchard: ['an orchard', 'orchard rows'],
};

/** The noun phrases a scene offers; null when the thing is absent. */
interface Things {
  ground: string;
  buildings: string | null;
  ponds: string | null;
  trees: string | null;
  river: string | null;
  road: string | null;
}

function counted(random: SeededRandom, n: number, singular: string, plural: string): string {
  return n === 1 ? `${random.pick(['a', 'one'])} ${singular}` : `${NUMBER_WORDS[n]} ${plural}`;
}

function things(scene: Scene, random: SeededRandom): Things {
  const k = scene.buildings.length;
  const colour = random.chance(0.85) ? `${scene.roofColour} ` : '';
  const [one, many] = random.pick([['building', 'buildings'], ['house', 'houses']]);
  const river = scene.river;
  const riverAdjective = river && river.amplitude >= WINDING_AMPLITUDE * scene.size ? 'winding ' : 'straight ';
  return {
    ground: random.pick(GROUND_WORDS[scene.ground]),
    buildings: k ? counted(random, k, colour + one, colour + many) : null,
    ponds: scene.ponds.length ? counted(random, scene.ponds.length, 'pond', 'ponds') : null,
    trees: scene.treeAmount === 'none' ? null : scene.treeAmount === 'few' ? random.pick(['a few trees', 'some trees']) : 'many trees',
    river: river ? `a ${random.chance(0.5) ? riverAdjective : ''}river` : null,
    road: scene.road ? 'a road' : null,
  };
}

/**
 * The things present, in a random order that favours what stands out from above (river, road,
 * buildings) over ponds and trees, as people describing aerial images do.
 */
function present(t: Things, random: SeededRandom): string[] {
  const weighted: Array<[string | null, number]> = [[t.river, 3], [t.road, 3], [t.buildings, 3], [t.ponds, 1], [t.trees, 1]];
  const items = weighted.filter((w): w is [string, number] => w[0] !== null);
  const order: string[] = [];
  while (items.length) {
    const k = random.weighted(items.map(([, w]) => w));
    order.push(items[k][0]);
    items.splice(k, 1);
  }
  return order;
}

/** One sentence pattern: a caption, or null when the scene lacks what it speaks of. */
type Template = (scene: Scene, t: Things, random: SeededRandom) => string | null;

// Short sentences: the byte-level tokenizer spends one token per letter and the demo's text
// context keeps about thirty, so the facts come first and the filler words are few.
const TEMPLATES: readonly Template[] = [
  // Where the buildings stand.
  (scene, t, random) => {
    if (!t.buildings) return null;
    const where = scene.buildingPlace === 'river' ? random.pick(['near the river', 'by the river', 'on the river bank'])
      : scene.buildingPlace === 'road' ? random.pick(['along the road', 'by the road'])
        : `in ${t.ground}`;
    return `${t.buildings} ${where}`;
  },
  // The road and how it meets the river.
  (scene, t, random) => {
    const road = scene.road;
    if (!road) return null;
    if (road.relation === 'crosses-river') return random.pick(['a road crosses the river', 'a bridge over the river', `a road and a bridge in ${t.ground}`]);
    if (road.relation === 'along-river') return random.pick(['a road along the river', 'a road runs by the river']);
    return random.pick([`a road crosses ${t.ground}`, `a road through ${t.ground}`]);
  },
  // The river.
  (_scene, t, random) => (t.river ? `${t.river} ${random.pick(['runs through', 'in', 'crosses'])} ${t.ground}` : null),
  // Land cover with one or two things.
  (_scene, t, random) => {
    const items = present(t, random);
    if (!items.length) return `only ${t.ground}`;
    return `${t.ground} with ${items.slice(0, random.integer(1, 3)).join(' and ')}`;
  },
  // One thing and where it is.
  (_scene, t, random) => {
    const items = present(t, random);
    return items.length ? `${items[0]} in ${t.ground}` : null;
  },
  // What is missing.
  (scene, t, random) => {
    const options: string[] = [];
    if (!t.buildings) options.push(`${t.ground} without buildings`, `no buildings in ${t.ground}`);
    if (!t.trees && !WOODED.has(scene.ground)) options.push(`no trees in ${t.ground}`);
    if (!t.ponds && !scene.river) options.push(`${t.ground} with no water`);
    return options.length ? random.pick(options) : null;
  },
  // Two things together.
  (_scene, t, random) => {
    const items = present(t, random);
    return items.length >= 2 ? `${items[0]} and ${items[1]}` : null;
  },
];

/**
 * Five captions for `scene`, distinct when the grammar allows, each true of what is drawn.
 * Sentences start with a capital and end with a full stop, as most of RSITMD's do.
 */
export function describeScene(scene: Scene, random: SeededRandom): string[] {
  const captions: string[] = [];
  for (let attempt = 0; captions.length < 5; attempt++) {
    const text = random.pick(TEMPLATES)(scene, things(scene, random), random);
    if (text === null) continue;
    const caption = `${text[0].toUpperCase()}${text.slice(1)}.`;
    // After many tries a sparse scene may repeat itself, as real captions do.
    if (!captions.includes(caption) || attempt > 200) captions.push(caption);
  }
  return captions;
}
