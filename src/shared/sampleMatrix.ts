/**
 * Posterior draws as one row-major float32 array. A panel answer carries thousands of draws; as
 * arrays of arrays each draw is an object that the webview's message has to rebuild (10,000 draws
 * of 4 numbers took about 8 ms to deserialise plus 10 ms of garbage collection a frame). One typed
 * array crosses the worker, the host and the webview as a single copy.
 */
export interface SampleMatrix {
  count: number;
  dim: number;
  /** Draw i's coordinate j at i * dim + j. */
  values: Float32Array;
}

export function sampleMatrix(rows: readonly (readonly number[])[], dim: number): SampleMatrix {
  const values = new Float32Array(rows.length * dim);
  rows.forEach((row, i) => {
    if (row.length !== dim) throw new Error(`draw ${i} has ${row.length} coordinates, expected ${dim}`);
    values.set(row, i * dim);
  });
  return { count: rows.length, dim, values };
}

/** Coordinate j of every draw. */
export function sampleColumn(samples: SampleMatrix, j: number): Float32Array {
  const column = new Float32Array(samples.count);
  for (let i = 0; i < samples.count; i++) column[i] = samples.values[i * samples.dim + j];
  return column;
}

/** The draws as arrays (the first `dims` coordinates of each). */
export function sampleRows(samples: SampleMatrix, dims = samples.dim): number[][] {
  return Array.from({ length: samples.count }, (_, i) => Array.from(samples.values.subarray(i * samples.dim, i * samples.dim + dims)));
}
