/**
 * The "has this run learned yet" line every lab panel shows above its pictures
 * (src/core/learnedNote.ts computes it in the host from the lab's rule and the run's metrics).
 */
export type { LearnedNote } from '../core/learnedNote';
