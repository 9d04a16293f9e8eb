/**
 * The experiment file (`*.lab.json`) after validation, with every default filled in.
 * The JSON schema in `schema.ts` is the single source of truth for fields and defaults;
 * these types mirror it for the code.
 */
import { listProblems, shorten } from './limits';

export const SPEC_FORMAT_VERSION = 1;

export type ExperimentKind = 'train' | 'sample';

/** A component choice: `name` picks the registry entry, the other fields are its options. */
export interface ComponentSpec {
  name: string;
  [option: string]: unknown;
}

export interface TrainingSpec {
  steps: number;
  batchSize: number;
  learningRate: number;
  optimizer: 'adam' | 'sgd';
  /** Omitted (runs recorded before the field existed): constant. */
  learningRateSchedule?: 'constant' | 'cosine';
  /** Omitted (runs recorded before the field existed): 1. */
  gradientWorkers?: 1 | 2;
  /** Training loss is read back (and logged) every `logEvery` steps. */
  logEvery: number;
  evalEvery: number;
  evalBatches: number;
  checkpointEvery: number;
  keepCheckpoints: number;
}

/**
 * `init`: start from another run's model weights (fine-tuning, continuing). `run` is a run id in
 * the runs folder the new run goes to; `step` one of its checkpoints (omitted: the newest, and
 * the launch records the step it resolved to, so spec.json always names one checkpoint).
 */
export interface InitSpec {
  run: string;
  step?: number;
}

export interface ResolvedSpec {
  formatVersion: number;
  kind: ExperimentKind;
  name: string;
  description?: string;
  /** Steps a run of this experiment was measured to need to learn (a template's advice; panels quote it). */
  recommendedSteps?: number;
  seed: number;
  task: ComponentSpec;
  model: ComponentSpec;
  objective: ComponentSpec;
  training: TrainingSpec;
  /** Start from these model weights instead of a fresh initialisation (kind 'train'). */
  init?: InitSpec;
}

/** A problem in a spec file, located by JSON pointer and (when the text is known) by offset. */
export interface SpecProblem {
  /** JSON pointer of the offending value, e.g. `/training/steps`. */
  path: string;
  message: string;
  /** Character offset range in the file text, when available. */
  offset?: number;
  length?: number;
  /** 1-based line and column, when available. */
  line?: number;
  column?: number;
}

export class SpecError extends Error {
  constructor(readonly file: string, readonly problems: SpecProblem[]) {
    // At most MAX_LISTED_PROBLEMS lines, each of bounded length: a file with a million
    // unknown keys (or one 20 MB key) still gets a message a terminal can show.
    super(
      listProblems(
        problems.map((p) => shorten(`${file}${p.line ? `:${p.line}:${p.column}` : ''}: ${shorten(p.path || '/', 200)}: ${p.message}`, 1000)),
      ),
    );
    this.name = 'SpecError';
  }
}
