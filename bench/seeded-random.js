// A seeded uniform generator (mulberry32) for the benchmarks' inputs and weights: the same
// numbers in every process and run, with no dependency.
'use strict';

/** Returns () => uniform in [0, 1) from the given seed. */
function seededUniform(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

module.exports = { seededUniform };
