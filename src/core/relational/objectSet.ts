/**
 * The objects of the relational tasks: a numbered set of small greyscale images.
 * Tasks only deal in object indices; a batch turns indices into pixels at the end.
 */

/** Side of every object image, in pixels (the tasks and the conv encoder assume 32 x 32). */
export const OBJECT_SIZE = 32;
export const OBJECT_PIXELS = OBJECT_SIZE * OBJECT_SIZE;

export interface ObjectSet {
  /** Where the objects come from, for run records and error messages ('procedural (seed 0)', a folder). */
  readonly source: string;
  readonly count: number;
  /** count x 32 x 32 intensities in [0, 1], row-major, object after object (1 = white paper, 0 = ink). */
  readonly pixels: Float32Array;
}

/** The pixels of object `index` (a view, not a copy). */
export function objectPixels(set: ObjectSet, index: number): Float32Array {
  if (!Number.isInteger(index) || index < 0 || index >= set.count) {
    throw new RangeError(`object ${index} does not exist: the set has ${set.count} objects`);
  }
  return set.pixels.subarray(index * OBJECT_PIXELS, (index + 1) * OBJECT_PIXELS);
}

/** Euclidean distance between two objects' pixel vectors (intensities in [0, 1]). */
export function pixelDistance(set: ObjectSet, a: number, b: number): number {
  const x = objectPixels(set, a);
  const y = objectPixels(set, b);
  let sum = 0;
  for (let k = 0; k < OBJECT_PIXELS; k++) sum += (x[k] - y[k]) ** 2;
  return Math.sqrt(sum);
}

/** The smallest pixel distance between any two objects of the set (how distinct the set is). */
export function minimumPairwiseDistance(set: ObjectSet): number {
  let minimum = Infinity;
  for (let a = 0; a < set.count; a++) {
    for (let b = a + 1; b < set.count; b++) minimum = Math.min(minimum, pixelDistance(set, a, b));
  }
  return minimum;
}
