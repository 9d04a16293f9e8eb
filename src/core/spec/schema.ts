/**
 * The JSON schema of experiment files (`*.lab.json`): the single source of truth for
 * fields, defaults and their documentation.
 *
 * Two views are built from the same pieces:
 * - `experimentSchema()`: the whole file (dist/experiment.schema.json), with the registered
 *   task/model/objective names as enums and, through `if`/`then`, the options of the chosen
 *   entry; VS Code gets a copy of it that suggests but never fails (editorSchema.ts), since
 *   Model Lab reports the problems itself;
 * - `topLevelSchema()` + `componentOptionsSchema()`: what `validate.ts` checks in two steps,
 *   so that every error can be reported against the entry the user actually chose.
 *
 * The registry is read at call time, so a lab that registers entries later is picked up.
 */
import { modelEntries, objectiveEntries, taskEntries, type OptionsSchema } from '../registry';
import { SPEC_FORMAT_VERSION, type ExperimentKind } from './types';
import { MAX_EXPERIMENT_NAME_LENGTH, MAX_SWEEP_NAME_LENGTH } from './limits';

type Schema = Record<string, unknown>;

export type ComponentRole = 'task' | 'model' | 'objective';
export const COMPONENT_ROLES: readonly ComponentRole[] = ['task', 'model', 'objective'];

/** What every registry entry has in common, plus the optional `kinds` hook. */
export interface ComponentEntry {
  name: string;
  description: string;
  options: OptionsSchema;
  /** Experiment kinds the entry supports; entries that do not say support only 'train'. */
  kinds?: readonly ExperimentKind[];
  /** Files the options name (see `FileOptions`): relative paths resolved, contents checked. */
  files?: FileOptions;
}

/**
 * An entry whose options name files on disk. `resolve` runs on the validated options of an
 * experiment read from a file: it rewrites relative paths against that file's folder (so the
 * resolved spec written to the run is absolute) and returns what cannot be read, each problem
 * at its option's JSON pointer relative to the component (e.g. `/objectSet/folder`).
 */
export interface FileOptions<Options = Record<string, unknown>> {
  resolve(options: Options, directory: string): { path: string; message: string }[];
}

export function registeredEntries(role: ComponentRole): ComponentEntry[] {
  switch (role) {
    case 'task':
      return taskEntries();
    case 'model':
      return modelEntries();
    case 'objective':
      return objectiveEntries();
  }
}

export const kindsOf = (entry: ComponentEntry): readonly ExperimentKind[] => entry.kinds ?? ['train'];

/** Experiment names end up in run ids and folder names. */
export const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]*$';
const NAME_PATTERN_MESSAGE =
  "an identifier: letters, digits, '.', '_' or '-', starting with a letter or digit (it becomes part of run ids)";

/**
 * Every integer field is a safe integer (at most 2^53 - 1): past it a JSON number is no longer
 * the integer written (2^53 + 1 reads as 2^53), and step counters stop counting.
 */
export function withSafeIntegers<T>(schema: T): T {
  if (Array.isArray(schema)) return schema.map(withSafeIntegers) as T;
  if (typeof schema !== 'object' || schema === null) return schema;
  const result = Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, withSafeIntegers(value)])) as Schema;
  const types = Array.isArray(result.type) ? result.type : [result.type];
  if (types.includes('integer') && result.maximum === undefined && result.exclusiveMaximum === undefined) {
    result.maximum = Number.MAX_SAFE_INTEGER;
  }
  return result as T;
}

/** A field with the same text for hover (`description`) and rich hover (`markdownDescription`). */
const documented = (schema: Schema, description: string): Schema => ({
  ...schema,
  description,
  markdownDescription: description,
});

const TRAINING_PROPERTIES: Record<string, Schema> = {
  steps: documented({ type: 'integer', minimum: 1, default: 2000 }, 'Number of optimisation steps (one fresh batch per step).'),
  batchSize: documented({ type: 'integer', minimum: 1, default: 256 }, 'Examples per training batch.'),
  learningRate: documented({ type: 'number', exclusiveMinimum: 0, default: 1e-4 }, 'Step size of the optimizer.'),
  optimizer: {
    ...documented({ type: 'string', enum: ['adam', 'sgd'], default: 'adam' }, 'Optimizer: `adam` or plain `sgd`.'),
    enumDescriptions: ['Adam with the usual betas (0.9, 0.999).', 'Plain stochastic gradient descent.'],
  },
  learningRateSchedule: {
    ...documented(
      { type: 'string', enum: ['constant', 'cosine'], default: 'constant' },
      'How the step size changes over the run: `constant`, or `cosine` (from `learningRate` at the first step down to 0 at the last, half a cosine period).',
    ),
    enumDescriptions: ['`learningRate` at every step.', 'learningRate x (1 + cos(pi (step - 1) / steps)) / 2: large steps early, fine ones at the end.'],
  },
  gradientWorkers: {
    ...documented(
      { type: 'integer', enum: [1, 2], default: 1 },
      'Worker threads that compute each step\'s gradient: 1, or 2 (data-parallel: each takes `batchSize / 2` examples of the step, the two gradients are averaged into one update; uses both cores of a 2-core machine for one run, so VS Code shares them). `batchSize` must be even for 2. Measured on a 2-core machine: 1.1x to 1.6x the steps per second of one worker, depending on the model (bench/README.md).',
    ),
    enumDescriptions: ['One worker computes the whole batch.', 'Two workers, half the batch each, averaged gradients: the same update a single worker makes on the whole batch.'],
  },
  logEvery: documented(
    { type: 'integer', minimum: 1, default: 10 },
    'The training loss is read back and logged every `logEvery` steps (reading it back costs time).',
  ),
  evalEvery: documented({ type: 'integer', minimum: 1, default: 250 }, 'Evaluate on every split every `evalEvery` steps.'),
  evalBatches: documented({ type: 'integer', minimum: 1, default: 10 }, 'Fresh batches averaged per evaluation.'),
  checkpointEvery: documented({ type: 'integer', minimum: 1, default: 500 }, 'Save a checkpoint every `checkpointEvery` steps (and at the end).'),
  keepCheckpoints: documented({ type: 'integer', minimum: 1, default: 3 }, 'How many of the most recent checkpoints to keep on disk.'),
};

/** The documented defaults of `training`, derived from the schema (handy for UIs and tests). */
export function trainingDefaults(): Record<string, unknown> {
  return Object.fromEntries(Object.entries(TRAINING_PROPERTIES).map(([key, schema]) => [key, schema.default]));
}

const ROLE_DOCS: Record<ComponentRole, string> = {
  task: 'The task: which data is generated and which splits are evaluated. `name` picks it; the other fields are its options.',
  model: 'The model trained on the task. `name` picks it; the other fields are its options.',
  objective: 'The loss minimised and the metrics reported. `name` picks it; the other fields are its options.',
};

/**
 * The top level of an experiment file. `component` gives the schema of `task`/`model`/`objective`
 * (loose for the validator's first pass, detailed for the editor).
 */
export function topLevelSchema(component: (role: ComponentRole) => Schema = looseComponentSchema): Schema {
  return withSafeIntegers({
    type: 'object',
    required: ['formatVersion', 'kind', 'name', 'task', 'model', 'objective'],
    additionalProperties: false,
    properties: {
      $schema: { type: 'string', description: 'Optional: the JSON schema of this file (VS Code finds it by itself for `*.lab.json`).' },
      formatVersion: documented(
        { type: 'integer', const: SPEC_FORMAT_VERSION },
        `Version of the experiment file format. This version of Model Lab reads ${SPEC_FORMAT_VERSION}.`,
      ),
      kind: {
        ...documented({ type: 'string', enum: ['train', 'sample'] }, 'What the experiment does: `train` a model, or `sample` from one.'),
        enumDescriptions: ['Train a model on a task.', 'Draw samples (for models that declare it).'],
      },
      name: {
        ...documented(
          { type: 'string', pattern: NAME_PATTERN, maxLength: MAX_EXPERIMENT_NAME_LENGTH },
          `Short identifier of the experiment (at most ${MAX_EXPERIMENT_NAME_LENGTH} characters); run ids are \`<date>-<name>\`.`,
        ),
        patternErrorMessage: `must be ${NAME_PATTERN_MESSAGE}`,
      },
      description: documented({ type: 'string' }, 'Free text shown with the experiment and its runs.'),
      recommendedSteps: documented(
        { type: 'integer', minimum: 1 },
        "Informational: how many training steps a run of this experiment was measured to need before its lab's panel shows what it learned (the lab's rule). A panel whose run has not learned yet quotes it; `training.steps` decides how long a run trains.",
      ),
      seed: documented(
        { type: 'integer', minimum: 0, default: 0 },
        'Seed of every random choice (data, initialisation): same seed, same run.',
      ),
      task: component('task'),
      model: component('model'),
      objective: component('objective'),
      training: {
        ...documented({ type: 'object', default: {} }, 'Optimisation budget and schedule. Every field has a default; omit the object to take them all.'),
        additionalProperties: false,
        properties: withDefaultsInHover(TRAINING_PROPERTIES),
        defaultSnippets: [{ label: 'training with every default', body: trainingDefaults() }],
      },
      init: INIT_SCHEMA,
    },
  });
}

/** A run id: a plain folder name of the runs folder (no '/', no '..'). */
export const RUN_ID_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9._-]*$';

const INIT_SCHEMA: Schema = {
  ...documented(
    { type: 'object', required: ['run'] },
    "Start from another run's model weights instead of a fresh initialisation: fine-tuning or continuing a run. The new run has its own optimizer (fresh), its own step 0 and its own seed; the task and objective may differ, the model's weights must have the same names and shapes.",
  ),
  additionalProperties: false,
  properties: {
    run: {
      ...documented(
        { type: 'string', pattern: RUN_ID_PATTERN, maxLength: 200 },
        'The run to start from: its id (folder name, as `model-lab list` prints it) in the runs folder the new run goes to.',
      ),
      patternErrorMessage: "must be a run id (a folder name of the runs folder: letters, digits, '.', '_' or '-', no '/')",
    },
    step: documented(
      { type: 'integer', minimum: 0 },
      "A checkpoint step of that run. Omitted: its newest checkpoint; the run records the step it started from (spec.json and run.json).",
    ),
  },
};

/** First pass of the validator: an object with a string `name`; options are checked per entry. */
function looseComponentSchema(role: ComponentRole): Schema {
  return {
    type: 'object',
    required: ['name'],
    properties: { name: { type: 'string', description: `Registered ${role} name.` } },
    description: ROLE_DOCS[role],
  };
}

const optionProperties = (options: OptionsSchema): Record<string, Schema> =>
  (options.properties as Record<string, Schema> | undefined) ?? {};
const requiredOptions = (options: OptionsSchema): string[] => (options.required as string[] | undefined) ?? [];

/** Second pass of the validator: the component object of a chosen entry (`name` + its options). */
export function componentOptionsSchema(entry: ComponentEntry): Schema {
  return withSafeIntegers({
    type: 'object',
    required: ['name', ...requiredOptions(entry.options)],
    additionalProperties: false,
    properties: { name: { type: 'string' }, ...optionProperties(entry.options) },
  });
}

/** The editor's schema of one component: a name enum, and the chosen entry's options via if/then. */
function editorComponentSchema(role: ComponentRole): Schema {
  const entries = registeredEntries(role);
  const name: Schema = { type: 'string', description: `Registered ${role} name.` };
  if (entries.length > 0) {
    name.enum = entries.map((e) => e.name);
    name.enumDescriptions = entries.map((e) => e.description);
    name.markdownEnumDescriptions = entries.map((e) => e.description);
  }
  return {
    ...documented({ type: 'object', required: ['name'] }, ROLE_DOCS[role]),
    properties: { name },
    // Completion of a whole component with its defaults filled in.
    defaultSnippets: entries.map((e) => ({
      label: e.name,
      description: e.description,
      body: { name: e.name, ...optionDefaults(e.options) },
    })),
    allOf: entries.map((e) => ({
      if: { properties: { name: { const: e.name } }, required: ['name'] },
      then: {
        properties: { name: { const: e.name }, ...withDefaultsInHover(optionProperties(e.options)) },
        required: requiredOptions(e.options),
        additionalProperties: false,
      },
    })),
  };
}

/** Hover text ends with the default, so users see what omitting a field means. */
function withDefaultsInHover(properties: Record<string, Schema>): Record<string, Schema> {
  return Object.fromEntries(
    Object.entries(properties).map(([key, schema]) => {
      const text = schema.markdownDescription ?? schema.description;
      if (schema.default === undefined || typeof text !== 'string') return [key, schema];
      return [key, { ...schema, markdownDescription: `${text}\n\nDefault: \`${JSON.stringify(schema.default)}\`` }];
    }),
  );
}

function optionDefaults(options: OptionsSchema): Record<string, unknown> {
  const defaults: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(optionProperties(options))) {
    if (schema.default !== undefined) defaults[key] = schema.default;
  }
  return defaults;
}

/** The full draft-07 schema of `*.lab.json` files, generated from the registry. */
export function experimentSchema(): Record<string, unknown> {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Model Lab experiment',
    description: 'An experiment file of Model Lab: which task, model and objective to train, and how.',
    ...withSweepAlternative(topLevelSchema(editorComponentSchema)),
    defaultSnippets: newExperimentSnippets(),
  };
}

// ---------------------------------------------------------------------------------------------
// Sweeps (`kind: "sweep"`, see src/core/sweep.ts and docs/sweeps.md)

const SWEEP_DOCS = {
  base: 'The experiment every member starts from: the fields of a `train` file (task, model, objective, training, seed), or `{ "file": "relative.lab.json" }` to use an experiment file.',
  grid: 'JSON pointers into the base (e.g. `/task/m`, `/model/name`, `/model`, `/seed`), each with the values to try. The members are every combination (at most 5000: the product of the list lengths); `/seed` varies fastest.',
  exclude: 'Combinations to skip: each entry names grid keys and values, e.g. `{ "/task/name": "rmts", "/task/m": 98 }`.',
  report: 'The metric compared across members (its last logged value), e.g. `eval/test/accuracy`.',
};

/** The top level of a sweep file, for the validator's first pass (the base is checked per member). */
export function sweepTopLevelSchema(base: Schema = { type: 'object' }): Schema {
  return {
    type: 'object',
    required: ['formatVersion', 'kind', 'name', 'base', 'grid'],
    additionalProperties: false,
    properties: {
      $schema: { type: 'string' },
      formatVersion: documented({ type: 'integer', const: SPEC_FORMAT_VERSION }, `Version of the experiment file format (${SPEC_FORMAT_VERSION}).`),
      kind: documented({ type: 'string', const: 'sweep' }, 'A sweep: many `train` runs over a grid of values.'),
      name: {
        ...documented(
          { type: 'string', pattern: NAME_PATTERN, maxLength: MAX_SWEEP_NAME_LENGTH },
          `Short identifier of the sweep (at most ${MAX_SWEEP_NAME_LENGTH} characters, it names the sweep's folder); members are named \`<name>.<value labels>\`.`,
        ),
        patternErrorMessage: `must be ${NAME_PATTERN_MESSAGE}`,
      },
      description: documented({ type: 'string' }, 'Free text shown with the sweep.'),
      base: documented(base, SWEEP_DOCS.base),
      grid: documented(
        { type: 'object', minProperties: 1, additionalProperties: { type: 'array', minItems: 1 } },
        SWEEP_DOCS.grid,
      ),
      exclude: documented({ type: 'array', items: { type: 'object', minProperties: 1 }, default: [] }, SWEEP_DOCS.exclude),
      report: {
        ...documented({ type: 'object', default: {} }, SWEEP_DOCS.report),
        additionalProperties: false,
        properties: {
          metric: documented({ type: 'string', minLength: 1, default: 'eval/test/accuracy' }, 'Metric name as logged in metrics.jsonl.'),
          at: documented({ type: 'string', enum: ['last'], default: 'last' }, 'Which value counts: the last one logged.'),
        },
      },
    },
  };
}

/** `{ "file": "relative.lab.json" }` as a sweep's base. */
export const SWEEP_BASE_FILE_SCHEMA: Schema = {
  type: 'object',
  required: ['file'],
  additionalProperties: false,
  properties: { file: { type: 'string', minLength: 1, description: 'Experiment file, relative to the sweep file.' } },
};

/**
 * The editor's schema accepts both kinds: the train file's properties stay where they are, the
 * sweep's are added, and `required`/closedness depend on `kind`.
 */
function withSweepAlternative(train: Schema): Schema {
  const trainProperties = train.properties as Record<string, Schema>;
  const sweep = sweepTopLevelSchema();
  const sweepProperties = sweep.properties as Record<string, Schema>;
  const { formatVersion: _f, kind: _k, ...baseProperties } = trainProperties;
  const inlineBase: Schema = { type: 'object', additionalProperties: false, properties: { ...baseProperties, formatVersion: _f, kind: _k } };
  const kind = trainProperties.kind;
  const { required, ...open } = train;
  return {
    ...open,
    properties: {
      ...trainProperties,
      kind: {
        ...kind,
        enum: [...(kind.enum as string[]), 'sweep'],
        enumDescriptions: [...((kind.enumDescriptions as string[]) ?? []), 'Train many runs over a grid of values (a sweep).'],
      },
      base: { ...sweepProperties.base, anyOf: [SWEEP_BASE_FILE_SCHEMA, inlineBase] },
      grid: sweepProperties.grid,
      exclude: sweepProperties.exclude,
      report: sweepProperties.report,
    },
    if: { properties: { kind: { const: 'sweep' } }, required: ['kind'] },
    then: {
      required: sweep.required,
      not: { anyOf: ['task', 'model', 'objective', 'training', 'seed', 'init'].map((key) => ({ required: [key] })) },
    },
    else: { required, not: { anyOf: ['base', 'grid', 'exclude', 'report'].map((key) => ({ required: [key] })) } },
  };
}

/** Completion in an empty file: a whole experiment with the first registered entries. */
function newExperimentSnippets(): Schema[] {
  const [task, model, objective] = COMPONENT_ROLES.map((role) => registeredEntries(role)[0]);
  if (!task || !model || !objective) return [];
  const component = (e: ComponentEntry) => ({ name: e.name, ...optionDefaults(e.options) });
  return [
    {
      label: 'New experiment',
      description: `${task.name} + ${model.name} + ${objective.name}, with every default written out`,
      body: {
        formatVersion: SPEC_FORMAT_VERSION,
        kind: 'train',
        name: 'my-experiment',
        seed: 0,
        task: component(task),
        model: component(model),
        objective: component(objective),
        training: trainingDefaults(),
      },
    },
  ];
}
