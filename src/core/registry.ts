/**
 * The registry turns a resolved spec into task + model + objective.
 * It starts with every lab's components as their manifests declare them (src/core/labList.ts):
 * names, descriptions and option schemas, all that validation and the editor need, without
 * TensorFlow.js. The worker's src/core/labs.ts then attaches the factories that build them.
 * The training loop, the engine and the UI never special-case a lab.
 */
import type * as tf from '@tensorflow/tfjs';
import { LABS } from './labList';
import type { ResolvedSpec } from './spec/types';
import type { FileOptions } from './spec/schema';
import type { Rng } from './rng';
import type { NamedTensor } from './sink';

/** A JSON-schema fragment for one component's options (with `default`s and descriptions). */
export type OptionsSchema = Record<string, unknown>;

export interface Batch {
  inputs: tf.Tensor;
  targets: tf.Tensor;
  /** Ground truth kept for inspection (e.g. the true searches and retrievals), plain JSON. */
  truth?: unknown;
}

export interface Task {
  /** Names of evaluation splits, e.g. ['train', 'ood']. The first is the training split. */
  readonly splits: readonly string[];
  /** Shape of one example's input, without the batch dimension. */
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  /** Deterministic in `rng`: same rng state, same batch. */
  batch(size: number, split: string, rng: Rng): Batch;
}

export interface ForwardResult {
  output: tf.Tensor;
  /** Named internal tensors worth showing (attention maps, similarity matrices, ...). */
  inspect?: Record<string, tf.Tensor>;
}

export interface Parameter {
  /** Stable name used in checkpoints, e.g. `encoder.0.kernel`. */
  name: string;
  variable: tf.Variable;
}

export interface Model {
  /** Trainable parameters in a fixed order (checkpoints and gradient exchange rely on it). */
  readonly parameters: readonly Parameter[];
  forward(inputs: tf.Tensor, training: boolean): ForwardResult;
}

export interface Objective {
  /**
   * Scalar loss to minimise. `batch` is the batch `output` was computed from (e.g. its data sets);
   * `step` is the 1-based training step (for schedules such as a KL warm-up).
   */
  loss(output: tf.Tensor, targets: tf.Tensor, batch?: Batch, step?: number): tf.Scalar;
  /** Evaluation metrics (scalars), averaged over evaluation batches. Names without split prefix. */
  metrics(output: tf.Tensor, targets: tf.Tensor, batch?: Batch): Record<string, tf.Scalar>;
  /**
   * For an objective whose examples are drawn by the model being trained (a sampler's
   * trajectories come from its own policy): draws the batch in place of the task's `batch`,
   * outside the gradient tape. Deterministic in `request.rng` and the model's weights.
   */
  drawBatch?(model: Model, request: BatchRequest): Batch;
  /**
   * Training state beyond the weights that a resumed run needs to match an uninterrupted one (a
   * sampler's replay buffers): saved with every checkpoint, as tensors the caller disposes.
   */
  saveState?(): NamedTensor[];
  /** Takes back what `saveState` gave (untrusted: from a file; a clear error on wrong names, shapes or values). */
  restoreState?(state: readonly NamedTensor[]): void;
}

/** What the training loop asks of a batch: its size, split, random stream, and the step it serves. */
export interface BatchRequest {
  size: number;
  split: string;
  rng: Rng;
  /** The 1-based training step, or the step being evaluated. */
  step: number;
  purpose: 'train' | 'eval';
}

export interface BuildContext {
  spec: ResolvedSpec;
  task: Task;
  /** Seeded generator for weight initialisation. */
  rng: Rng;
}

export interface Entry<T> {
  name: string;
  description: string;
  /** JSON schema of the options (properties other than `name`), with defaults. */
  options: OptionsSchema;
  create(options: Record<string, unknown>, context: BuildContext): T;
}

export interface TaskEntry {
  name: string;
  description: string;
  options: OptionsSchema;
  /** Options that name files (e.g. a folder of images): resolved against the experiment file. */
  files?: FileOptions;
  /** Options filled in when an experiment is resolved, from the others and the seed. */
  recorded?: RecordedOptions;
  create(options: Record<string, unknown>, seed: number): Task;
}

/**
 * Options a task records in the resolved spec (e.g. the values a named rule stands for), so that
 * a run's spec.json says what it used and a later change of the rule cannot change an old run.
 * `fill` runs on validated options and returns problems at pointers within the component.
 */
export interface RecordedOptions<Options = Record<string, unknown>> {
  /** The options `fill` writes (dropped from a sweep's base file, so that each member records its own). */
  keys: readonly string[];
  fill(options: Options, seed: number): { path: string; message: string }[];
}

const tasks = new Map<string, TaskEntry>();
const models = new Map<string, Entry<Model>>();
const objectives = new Map<string, Entry<Objective>>();

export const registerTask = (entry: TaskEntry): void => void tasks.set(entry.name, entry);
export const registerModel = (entry: Entry<Model>): void => void models.set(entry.name, entry);
export const registerObjective = (entry: Entry<Objective>): void => void objectives.set(entry.name, entry);

export const taskEntries = (): TaskEntry[] => [...tasks.values()];
export const modelEntries = (): Entry<Model>[] => [...models.values()];
export const objectiveEntries = (): Entry<Objective>[] => [...objectives.values()];

export const findTask = (name: string): TaskEntry | undefined => tasks.get(name);
export const findModel = (name: string): Entry<Model> | undefined => models.get(name);
export const findObjective = (name: string): Entry<Objective> | undefined => objectives.get(name);

/** A component whose lab's factories this process has not loaded (the extension host never does). */
const notLoaded = (role: string, name: string) => (): never => {
  throw new Error(`${role} '${name}' cannot be built here: its lab's factories are loaded by src/core/labs.ts (the worker and the CLI load them)`);
};

for (const lab of LABS) {
  for (const task of lab.tasks) registerTask({ ...task, create: notLoaded('task', task.name) } as TaskEntry);
  for (const model of lab.models) registerModel({ ...model, create: notLoaded('model', model.name) });
  for (const objective of lab.objectives) registerObjective({ ...objective, create: notLoaded('objective', objective.name) });
}
