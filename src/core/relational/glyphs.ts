/**
 * A seeded procedural set of distinct glyphs, the default objects of the relational tasks.
 *
 * Each glyph is 2 to 4 strokes (segments, rings, arcs, box outlines, dots) drawn dark on white
 * with anti-aliased edges, like the original ESBN glyphs (which are 32 x 32, white paper, dark
 * ink). A candidate is rejected when it has too little or too much ink or lies closer than
 * `MIN_GLYPH_DISTANCE` to a glyph already accepted, so every set is distinct by construction.
 */
import { createRng, type Rng } from '../rng';
import { OBJECT_PIXELS, OBJECT_SIZE, type ObjectSet } from './objectSet';

/**
 * No two glyphs of a set are closer than this Euclidean pixel distance (intensities in [0, 1]).
 * For scale: the 100 original ESBN glyphs are at least 4.25 apart; swapping ink and paper on
 * 36 pixels moves an image by 6.
 */
export const MIN_GLYPH_DISTANCE = 6;
export const DEFAULT_GLYPH_COUNT = 100;

/** Accepted amount of ink, in pixels' worth of full darkness (a 32 x 32 image has 1024). */
const MIN_INK = 50;
const MAX_INK = 420;
const MAX_ATTEMPTS_PER_GLYPH = 200;

type Point = [number, number];
/** Distance from a point to the stroke's centre line (0 inside filled shapes). */
type Stroke = (x: number, y: number) => number;

export function proceduralGlyphs(seed: number, count = DEFAULT_GLYPH_COUNT): ObjectSet {
  const rng = createRng('relational-glyphs', seed);
  const accepted: Float32Array[] = [];
  let attempts = 0;
  while (accepted.length < count) {
    if (attempts++ > MAX_ATTEMPTS_PER_GLYPH * count) {
      throw new Error(`could not draw ${count} glyphs at least ${MIN_GLYPH_DISTANCE} apart (got ${accepted.length})`);
    }
    const candidate = drawGlyph(rng);
    const ink = candidate.reduce((sum, value) => sum + (1 - value), 0);
    if (ink < MIN_INK || ink > MAX_INK) continue;
    if (accepted.some((other) => distance(other, candidate) < MIN_GLYPH_DISTANCE)) continue;
    accepted.push(candidate);
  }
  const pixels = new Float32Array(count * OBJECT_PIXELS);
  accepted.forEach((glyph, i) => pixels.set(glyph, i * OBJECT_PIXELS));
  return { source: `procedural glyphs (seed ${seed})`, count, pixels };
}

function drawGlyph(rng: Rng): Float32Array {
  const strokes = Array.from({ length: 2 + rng.int(3) }, () => randomStroke(rng));
  const halfWidth = 0.75 + 0.75 * rng.next(); // strokes 1.5 to 3 pixels wide
  const pixels = new Float32Array(OBJECT_PIXELS);
  for (let row = 0; row < OBJECT_SIZE; row++) {
    for (let col = 0; col < OBJECT_SIZE; col++) {
      const [x, y] = [col + 0.5, row + 0.5];
      const nearest = Math.min(...strokes.map((stroke) => stroke(x, y)));
      // Coverage of a pixel by a stroke edge, linear over one pixel: anti-aliasing.
      const ink = Math.min(1, Math.max(0, halfWidth + 0.5 - nearest));
      pixels[row * OBJECT_SIZE + col] = 1 - ink;
    }
  }
  return pixels;
}

const between = (rng: Rng, low: number, high: number) => low + (high - low) * rng.next();
const point = (rng: Rng, margin = 5): Point => [between(rng, margin, OBJECT_SIZE - margin), between(rng, margin, OBJECT_SIZE - margin)];

function randomStroke(rng: Rng): Stroke {
  switch (rng.int(5)) {
    case 0:
    case 1:
      return segment(point(rng), point(rng));
    case 2: {
      const radius = between(rng, 4, 10);
      const centre = point(rng, radius + 2);
      const start = between(rng, 0, 2 * Math.PI);
      const span = rng.next() < 0.4 ? 2 * Math.PI : between(rng, Math.PI / 2, 1.6 * Math.PI);
      return arc(centre, radius, start, span);
    }
    case 3: {
      const [a, b] = [point(rng), point(rng)];
      return box([Math.min(a[0], b[0]), Math.min(a[1], b[1])], [Math.max(a[0], b[0]) + 3, Math.max(a[1], b[1]) + 3]);
    }
    default:
      return dot(point(rng), between(rng, 1.5, 3.5));
  }
}

function segment([ax, ay]: Point, [bx, by]: Point): Stroke {
  const [dx, dy] = [bx - ax, by - ay];
  const lengthSquared = dx * dx + dy * dy || 1e-9;
  return (x, y) => {
    const t = Math.min(1, Math.max(0, ((x - ax) * dx + (y - ay) * dy) / lengthSquared));
    return Math.hypot(x - (ax + t * dx), y - (ay + t * dy));
  };
}

/** A circle of `radius` around `centre`, drawn from angle `start` over `span` radians. */
function arc([cx, cy]: Point, radius: number, start: number, span: number): Stroke {
  const end = (a: number): Point => [cx + radius * Math.cos(a), cy + radius * Math.sin(a)];
  const [first, last] = [end(start), end(start + span)];
  return (x, y) => {
    const angle = Math.atan2(y - cy, x - cx);
    const along = (((angle - start) % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI);
    if (along <= span) return Math.abs(Math.hypot(x - cx, y - cy) - radius);
    return Math.min(Math.hypot(x - first[0], y - first[1]), Math.hypot(x - last[0], y - last[1]));
  };
}

function box([left, top]: Point, [right, bottom]: Point): Stroke {
  const sides = [
    segment([left, top], [right, top]),
    segment([right, top], [right, bottom]),
    segment([right, bottom], [left, bottom]),
    segment([left, bottom], [left, top]),
  ];
  return (x, y) => Math.min(...sides.map((side) => side(x, y)));
}

function dot([cx, cy]: Point, radius: number): Stroke {
  return (x, y) => Math.max(0, Math.hypot(x - cx, y - cy) - radius);
}

function distance(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let k = 0; k < a.length; k++) sum += (a[k] - b[k]) ** 2;
  return Math.sqrt(sum);
}
