/**
 * The relational tasks as registry tasks: trials drawn online from a set of 100 objects,
 * m of which are held out (`m`, the papers' m_holdout). The 'train' split draws only from the
 * other objects, the 'test' split only from the m held-out ones, so at m = 95 a model trains
 * on 5 objects and is tested on 95 it never saw. At m = 0 both splits use every object.
 *
 * A batch is inputs [B, T, 32, 32, 1] (greyscale, 1 = paper), one-hot targets [B, classes],
 * and the trials themselves (object indices, label, kind) as ground truth for the panels.
 */
import * as tf from '@tensorflow/tfjs';
import type { Batch, Task } from '../registry';
import type { ObjectSetOption } from './options';
import { createRng, type Rng } from '../rng';
import { proceduralGlyphs } from './glyphs';
import { OBJECT_PIXELS, OBJECT_SIZE, objectPixels, type ObjectSet } from './objectSet';
import { loadPngFolder } from './pngFolder';
import { TASK_LAYOUTS, TRIAL_GENERATORS, type RelationalTaskName, type TaskLayout, type Trial } from './trials';

export type { ObjectSetOption, RelationalTaskOptions } from './options';

/** The seed of the procedural glyphs: fixed, so every run and seed sees the same objects. */
export const PROCEDURAL_GLYPH_SEED = 0;

export function resolveObjectSet(option: ObjectSetOption): ObjectSet {
  return option === 'procedural' ? proceduralGlyphs(PROCEDURAL_GLYPH_SEED) : loadPngFolder(option.folder);
}

/** Training and test objects: a seeded shuffle, the first m held out (all objects both ways at m = 0). */
export function holdoutSplit(count: number, m: number, seed: number): { train: number[]; test: number[] } {
  const order = Array.from({ length: count }, (_, i) => i);
  const rng = createRng(seed, 'relational', 'holdout');
  for (let i = count - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  if (m === 0) return { train: order, test: [...order] };
  return { train: order.slice(m), test: order.slice(0, m) };
}

export class RelationalTask implements Task {
  readonly splits = ['train', 'test'] as const;
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly layout: TaskLayout;
  /** Object indices each split draws from. */
  readonly pools: Readonly<Record<'train' | 'test', readonly number[]>>;

  constructor(
    readonly task: RelationalTaskName,
    readonly objects: ObjectSet,
    readonly m: number,
    seed: number,
  ) {
    this.layout = TASK_LAYOUTS[task];
    const { length, classes, distinctObjects } = this.layout;
    const maximum = objects.count - distinctObjects;
    if (!Number.isInteger(m) || m < 0 || m > maximum) {
      throw new Error(
        `task.m must be an integer from 0 to ${maximum} for ${task} on ${objects.count} objects (training needs ${distinctObjects} distinct objects), got ${m}`,
      );
    }
    if (m > 0 && m < distinctObjects) {
      throw new Error(`task.m = ${m} holds out too few objects: a ${task} test trial needs ${distinctObjects} distinct objects (use 0 or at least ${distinctObjects})`);
    }
    this.pools = holdoutSplit(objects.count, m, seed);
    this.inputShape = [length, OBJECT_SIZE, OBJECT_SIZE, 1];
    this.outputShape = [classes];
  }

  /** Context-normalisation segments of the sequence (read by the relational models). */
  get segments(): number[][] {
    return this.layout.segments;
  }

  pool(split: string): readonly number[] {
    if (split !== 'train' && split !== 'test') {
      throw new Error(`unknown split '${split}': expected one of ${this.splits.join(', ')}`);
    }
    return this.pools[split];
  }

  trials(size: number, split: string, rng: Rng): Trial[] {
    const pool = this.pool(split);
    const generate = TRIAL_GENERATORS[this.task];
    return Array.from({ length: size }, () => generate(pool, rng));
  }

  batch(size: number, split: string, rng: Rng): Batch {
    const trials = this.trials(size, split, rng);
    const { length, classes } = this.layout;
    const inputs = new Float32Array(size * length * OBJECT_PIXELS);
    const targets = new Float32Array(size * classes);
    trials.forEach((trial, b) => {
      trial.objects.forEach((object, t) => inputs.set(objectPixels(this.objects, object), (b * length + t) * OBJECT_PIXELS));
      targets[b * classes + trial.label] = 1;
    });
    return {
      inputs: tf.tensor(inputs, [size, ...this.inputShape]),
      targets: tf.tensor2d(targets, [size, classes]),
      truth: trials,
    };
  }
}

/** True for tasks whose inputs are sequences of object images with segments (for the models). */
export function isRelationalTask(task: Task): task is RelationalTask {
  return task instanceof RelationalTask;
}
