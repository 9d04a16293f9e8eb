/** Everything the posterior lab registers (see src/core/labs.ts). */
export { posteriorTaskEntries } from './tasks';
export { amortizedPosteriorEntry } from './model';
export { forwardKlEntry, reverseKlEntry } from './objectives';
