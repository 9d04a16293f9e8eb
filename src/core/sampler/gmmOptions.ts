/**
 * The checks of a `sampler-gmm` task that its JSON schema cannot say: every mean as long as the
 * first (the dimension), one weight per mean; omitted weights are recorded as 1/K each. Pure (the
 * validator, and so the editor's diagnostics, run it): problems are located under /task.
 */
import type { GmmOptions } from './options';

export function checkGmmOptions(options: GmmOptions): { path: string; message: string }[] {
  const { means } = options;
  const d = means[0].length;
  const uneven = means.findIndex((mean) => mean.length !== d);
  if (uneven >= 0) {
    return [{ path: `/means/${uneven}`, message: `mean ${uneven} has ${means[uneven].length} coordinates but the first has ${d}: every mean needs the same number (the dimension)` }];
  }
  if (options.weights === undefined) {
    options.weights = new Array<number>(means.length).fill(1 / means.length);
    return [];
  }
  if (options.weights.length !== means.length) {
    return [{ path: '/weights', message: `${options.weights.length} weights for ${means.length} means: one weight per mean is needed` }];
  }
  return [];
}
