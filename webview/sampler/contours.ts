/**
 * Contour lines of a function sampled on a regular grid (marching squares), as line segments in
 * grid units: enough to draw the energy landscape under a sampler's samples without a plotting
 * library. Segments are not joined into paths: a canvas strokes them just as well.
 */

/** One segment from (x1, y1) to (x2, y2), in grid units (0..grid-1 along each axis). */
export type Segment = [number, number, number, number];

/**
 * The segments where `values` crosses `level`. values[b * grid + a] is the value at column a,
 * row b. Non-finite values count as below every level (log R = -Infinity where R is 0).
 */
export function contourSegments(values: ArrayLike<number>, grid: number, level: number): Segment[] {
  const at = (a: number, b: number) => {
    const v = values[b * grid + a];
    return Number.isFinite(v) ? v : -Infinity;
  };
  // Where along an edge from value p to q the level is crossed (0..1).
  const cross = (p: number, q: number) => (p === -Infinity ? 1 : q === -Infinity ? 0 : (level - p) / (q - p));
  const segments: Segment[] = [];
  for (let b = 0; b + 1 < grid; b++) {
    for (let a = 0; a + 1 < grid; a++) {
      const v00 = at(a, b);
      const v10 = at(a + 1, b);
      const v11 = at(a + 1, b + 1);
      const v01 = at(a, b + 1);
      const index = (v00 > level ? 1 : 0) | (v10 > level ? 2 : 0) | (v11 > level ? 4 : 0) | (v01 > level ? 8 : 0);
      if (index === 0 || index === 15) continue;
      // The crossing points on the four edges: bottom, right, top, left.
      const bottom = (): [number, number] => [a + cross(v00, v10), b];
      const right = (): [number, number] => [a + 1, b + cross(v10, v11)];
      const top = (): [number, number] => [a + cross(v01, v11), b + 1];
      const left = (): [number, number] => [a, b + cross(v00, v01)];
      const add = (p: [number, number], q: [number, number]) => segments.push([p[0], p[1], q[0], q[1]]);
      switch (index) {
        case 1: case 14: add(left(), bottom()); break;
        case 2: case 13: add(bottom(), right()); break;
        case 3: case 12: add(left(), right()); break;
        case 4: case 11: add(right(), top()); break;
        case 6: case 9: add(bottom(), top()); break;
        case 7: case 8: add(left(), top()); break;
        // Saddles: the two readings are equally right at this resolution; pick one consistently.
        case 5: add(left(), top()); add(bottom(), right()); break;
        case 10: add(left(), bottom()); add(right(), top()); break;
      }
    }
  }
  return segments;
}

/**
 * Levels of log R worth drawing: `count` levels from the maximum down to `depth` below it
 * (log R spans hundreds of units on a mixture's grid; the shape is in the top few).
 */
export function contourLevels(values: ArrayLike<number>, count: number, depth: number): number[] {
  let top = -Infinity;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i]) && values[i] > top) top = values[i];
  if (top === -Infinity) return [];
  return Array.from({ length: count }, (_, k) => top - 0.5 - (depth * k) / Math.max(1, count - 1));
}
