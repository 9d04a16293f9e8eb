/**
 * The Gaussian mixtures of the sampler lab as plain numbers (no TensorFlow.js: the option schemas,
 * and through them the extension host, read them): 25GMM's and GMM-40's components, and the box a
 * mixture's panel shows by default. The targets built from them are in targets.ts.
 */

/** 25GMM: the grid {-10, -5, 0, 5, 10}^2, covariance 0.3 I (gfn-diffusion's twenty_five_gmm.py). */
export const GMM25_MEANS = [-10, -5, 0, 5, 10].flatMap((a) => [-10, -5, 0, 5, 10].map((b) => [a, b]));
export const GMM25_STD = Math.sqrt(0.3);

/** GMM-40: the 40 means of iDEM's code (fixed seed, uniform in [-40, 40]^2), std softplus(1) per axis. */
export const GMM40_MEANS = [
  [-0.2995, 21.4577], [-32.9218, -29.4376], [-15.4062, 10.7263], [-0.7925, 31.7156], [-3.5498, 10.5845],
  [-12.0885, -7.8626], [-38.2139, -26.4913], [-16.4889, 1.4817], [15.8134, 24.0009], [-27.1176, -17.4185],
  [14.5287, 33.2155], [-8.232, 29.9325], [-6.4473, 4.2326], [36.219, -37.1068], [-25.1815, -10.1266],
  [-15.592, 34.56], [-25.9272, -18.4133], [-27.9456, -37.4624], [-23.3496, 34.3839], [17.8487, 19.3869],
  [2.1037, -20.5073], [6.7674, -37.3478], [-28.9026, -20.6212], [25.2375, 23.4529], [-17.7398, -1.4433],
  [25.5824, 39.7653], [15.8753, 5.4037], [26.8195, -23.5521], [7.4538, -31.0122], [-27.7234, -20.6633],
  [18.0989, 16.0864], [-23.6941, 12.0843], [21.9589, -5.0487], [1.5273, 9.2682], [24.8151, 38.4078],
  [-30.8249, -14.6588], [15.7204, 33.142], [34.8083, 35.2943], [7.9606, -34.7833], [3.6797, -25.0242],
];
export const GMM40_STD = Math.log1p(Math.E); // softplus(1) = 1.3133

/** Largest mixture a `sampler-gmm` task takes: components, and coordinates per component. */
export const MAX_GMM_COMPONENTS = 1000;
export const MAX_GMM_DIMENSION = 100;

/**
 * The box per coordinate a mixture's panel shows: the means' extent padded by max(3, 5 std)
 * (for 25GMM: [-13, 13], as its built-in target).
 */
export function mixtureRange(means: readonly (readonly number[])[], std: number): [number, number][] {
  const pad = Math.max(3, 5 * std);
  return means[0].map((_, j) => {
    const column = means.map((mean) => mean[j]);
    return [Math.min(...column) - pad, Math.max(...column) + pad];
  });
}
