/**
 * The relational tasks as registry tasks: trials drawn online from a set of 100 objects,
 * m of which are held out (`m`, the papers' m_holdout). The 'train' split draws only from the
 * other objects, the 'test' split only from the m held-out ones, so at m = 95 a model trains
 * on 5 objects and is tested on 95 it never saw. At m = 0 both splits use every object.
 *
 * A batch is inputs [B, T, 32, 32, 1] (greyscale, 1 = paper), one-hot targets [B, classes],
 * and the trials themselves (object indices, label, kind) as ground truth for the panels.
 */
import { isAbsolute, resolve as resolvePath } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Batch, Task, TaskEntry } from '../registry';
import type { FileOptions } from '../spec/schema';
import { createRng, type Rng } from '../rng';
import { proceduralGlyphs } from './glyphs';
import { OBJECT_PIXELS, OBJECT_SIZE, objectPixels, type ObjectSet } from './objectSet';
import { ObjectSetError, loadPngFolder } from './pngFolder';
import { TASK_LAYOUTS, TRIAL_GENERATORS, type RelationalTaskName, type TaskLayout, type Trial } from './trials';

/** `"procedural"` (seeded glyphs, the default) or a folder of the user's 32 x 32 PNG images. */
export type ObjectSetOption = 'procedural' | { folder: string };

export interface RelationalTaskOptions {
  /** Objects held out of training (and the only ones tested), the papers' m_holdout. */
  m: number;
  objectSet: ObjectSetOption;
}

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

const OPTIONS_SCHEMA = (task: RelationalTaskName) => ({
  type: 'object',
  properties: {
    m: {
      type: 'integer',
      minimum: 0,
      maximum: 100 - TASK_LAYOUTS[task].distinctObjects,
      default: 0,
      description:
        "Objects held out (the papers' m_holdout): training uses the other 100 - m, the 'test' split only these m unseen ones. 0: both use all objects. The paper's grid: 0, 50, 85, 95 (and 98 for same-diff).",
    },
    objectSet: {
      default: 'procedural',
      description:
        "The objects: 'procedural' (100 seeded distinct glyphs, the same for every run) or { \"folder\": \"path\" } with 32 x 32 PNG images (e.g. the original ESBN glyphs), the path absolute or relative to the experiment file; the run records it absolute.",
      oneOf: [
        { const: 'procedural' },
        {
          type: 'object',
          required: ['folder'],
          additionalProperties: false,
          properties: { folder: { type: 'string', minLength: 1, description: 'A folder of 32 x 32 PNG images, absolute or relative to the experiment file (images in natural order of their names).' } },
        },
      ],
    },
  },
});

/**
 * A folder object set: the path resolved against the experiment file's folder, every image read
 * now (so a bad folder is a located problem of the file, not a failed run), and m checked against
 * the number of images found.
 */
const folderFiles = (task: RelationalTaskName): FileOptions => ({
  resolve(options, directory) {
    const objectSet = options.objectSet;
    if (typeof objectSet !== 'object' || objectSet === null) return [];
    const option = objectSet as { folder: string };
    if (!isAbsolute(option.folder)) option.folder = resolvePath(directory, option.folder);
    let count: number;
    try {
      count = loadPngFolder(option.folder).count;
    } catch (error) {
      if (error instanceof ObjectSetError) return [{ path: '/objectSet/folder', message: error.message }];
      throw error;
    }
    const { distinctObjects } = TASK_LAYOUTS[task];
    const m = options.m as number;
    if (count - m < distinctObjects) {
      return [{ path: '/m', message: `m = ${m} leaves ${count - m} of the folder's ${count} objects for training: ${task} needs ${distinctObjects} distinct objects (expected m at most ${Math.max(0, count - distinctObjects)})` }];
    }
    return [];
  },
});

function taskEntry(name: string, task: RelationalTaskName, description: string): TaskEntry {
  return {
    name,
    description,
    options: OPTIONS_SCHEMA(task),
    files: folderFiles(task),
    create(options, seed) {
      const typed = options as unknown as RelationalTaskOptions;
      return new RelationalTask(task, resolveObjectSet(typed.objectSet), typed.m, seed);
    },
  };
}

export const relationalTaskEntries: TaskEntry[] = [
  taskEntry('same-diff', 'same_diff', 'Same/different: are the two objects the same? (ESBN / CoRelNet, 2 objects, 2 classes)'),
  taskEntry(
    'rmts',
    'RMTS',
    "Relational match-to-sample: which of two candidate pairs shares the source pair's relation (both same or both different)? (6 objects, 2 classes)",
  ),
  taskEntry(
    'dist3',
    'dist3',
    'Distribution of three: row 1 shows three objects, row 2 two of them; which of four options completes row 2? (9 objects, 4 classes)',
  ),
  taskEntry(
    'identity-rules',
    'identity_rules',
    'Identity rules: row 1 follows AAA, ABA or ABB; which of four options completes row 2 by the same rule? (9 objects, 4 classes)',
  ),
];
