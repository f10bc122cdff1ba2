/** Selecting the k best scores of a list: a bounded min-heap, ties broken by the lower index. */

/** One selected row and its score. */
export interface Scored {
  index: number;
  score: number;
}

/** Whether (sa, ia) ranks below (sb, ib): a lower score, or the same score at a higher index. */
function worse(sa: number, ia: number, sb: number, ib: number): boolean {
  return sa < sb || (sa === sb && ia > ib);
}

/**
 * The `k` highest of `scores[0..n)`, best first (equal scores by ascending index, so the order
 * is a pure function of the scores). NaN scores are never selected.
 */
export function topK(scores: Float32Array, n: number, k: number): Scored[] {
  const size = Math.min(k, n);
  if (size <= 0) return [];
  const heapScore = new Float64Array(size);
  const heapIndex = new Int32Array(size);
  let filled = 0;
  const siftDown = (from: number) => {
    let i = from;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < filled && worse(heapScore[l], heapIndex[l], heapScore[m], heapIndex[m])) m = l;
      if (r < filled && worse(heapScore[r], heapIndex[r], heapScore[m], heapIndex[m])) m = r;
      if (m === i) return;
      [heapScore[i], heapScore[m]] = [heapScore[m], heapScore[i]];
      [heapIndex[i], heapIndex[m]] = [heapIndex[m], heapIndex[i]];
      i = m;
    }
  };
  for (let i = 0; i < n; i++) {
    const s = scores[i];
    if (s !== s) continue; // NaN
    if (filled < size) {
      let j = filled++;
      heapScore[j] = s;
      heapIndex[j] = i;
      while (j > 0) {
        const p = (j - 1) >> 1;
        if (!worse(heapScore[j], heapIndex[j], heapScore[p], heapIndex[p])) break;
        [heapScore[j], heapScore[p]] = [heapScore[p], heapScore[j]];
        [heapIndex[j], heapIndex[p]] = [heapIndex[p], heapIndex[j]];
        j = p;
      }
    } else if (s > heapScore[0]) {
      // Strictly greater: an equal score at a later index ranks below the heap's minimum.
      heapScore[0] = s;
      heapIndex[0] = i;
      siftDown(0);
    }
  }
  const out: Scored[] = [];
  for (let i = 0; i < filled; i++) out.push({ index: heapIndex[i], score: heapScore[i] });
  return out.sort((a, b) => b.score - a.score || a.index - b.index);
}
