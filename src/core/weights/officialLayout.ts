/**
 * Our parameters <-> safetensors files in the layout of each model's PyTorch reference
 * (referenceLayouts.ts says which reference and which modules; layerLayouts.ts how each kind of
 * layer is stored). A parameter the reference lacks is stored as `model_lab.<our name>` in our
 * own layout and listed in the file's `__metadata__`, so every model exports, and import takes
 * exactly the keys export writes: a file saved from the reference itself loads as long as the
 * model has no `model_lab.` parameters (the retrieval models, the symmetric CoRelNet and the
 * Gaussian posterior with the transformer encoder have none).
 */
import * as tf from '@tensorflow/tfjs';
import { buildExperiment, type Experiment } from '../experiment';
import { createOptimizer, restoreWeights } from '../optimizers';
import type { Parameter } from '../registry';
import type { Checkpoint, NamedTensor } from '../sink';
import type { ComponentSpec, ResolvedSpec } from '../spec/types';
import { disposeExperiment } from '../train';
import { modelLabOwn, MODEL_LAB_PREFIX, type Mapping } from './layerLayouts';
import { referenceLayoutOf } from './referenceLayouts';
import { decodeSafetensors, encodeSafetensors, float32Values, type Float32Entry, type SafetensorsContents } from './safetensors';

export interface OfficialEntry {
  key: string;
  shape: number[];
}

/** Metadata keys of an exported file: which reference its keys follow, and which keys are our own. */
export const METADATA = {
  reference: 'reference',
  layoutNote: 'layout_note',
  modelLabKeys: 'model_lab_keys',
  modelLabKeysWhy: 'model_lab_keys_why',
} as const;

/** Each parameter's key and layout in the file, in our parameter order. */
function mappingsOf(model: ComponentSpec, parameters: readonly Parameter[]): Mapping[] {
  const { rules } = referenceLayoutOf(model);
  return parameters.map((parameter) => {
    for (const rule of rules) {
      const mapping = rule(parameter);
      if (mapping) return mapping;
    }
    return modelLabOwn(parameter);
  });
}

/** The file's keys and shapes for a model's parameters, in our parameter order. */
export function officialLayout(model: ComponentSpec, parameters: readonly Parameter[]): OfficialEntry[] {
  return mappingsOf(model, parameters).map(({ key, shape }) => ({ key, shape }));
}

/** The parameters' current values in the file's layout, ready for `encodeSafetensors`. */
function toFileTensors(mappings: readonly Mapping[]): Float32Entry[] {
  return mappings.map(({ parameter, key, shape, toFile }) => {
    const stored = tf.tidy(() => toFile(parameter.variable));
    try {
      return { name: key, shape, data: stored.dataSync() as Float32Array };
    } finally {
      stored.dispose();
    }
  });
}

/** What the metadata says about the keys: the reference, and the `model_lab.` keys with why. */
function layoutMetadata(model: ComponentSpec, mappings: readonly Mapping[]): Record<string, string> {
  const { reference, uncovered, note } = referenceLayoutOf(model);
  const own = mappings.filter((m) => m.key.startsWith(MODEL_LAB_PREFIX)).map((m) => m.key);
  const described = { [METADATA.reference]: reference, ...(note ? { [METADATA.layoutNote]: note } : {}) };
  if (own.length === 0) return described;
  return {
    ...described,
    [METADATA.modelLabKeys]: JSON.stringify(own),
    [METADATA.modelLabKeysWhy]: `${uncovered}; these keys are Model Lab's parameter names after '${MODEL_LAB_PREFIX}', in Model Lab's layout (dense kernels [in, out])`,
  };
}

/** Problems listed in a WeightsLayoutError's message; the rest are counted (a file can hold thousands of keys). */
const LISTED_PROBLEMS = 20;

export class WeightsLayoutError extends Error {
  constructor(readonly source: string, readonly problems: string[]) {
    const listed = problems.slice(0, LISTED_PROBLEMS).map((p) => `  - ${p}`);
    if (problems.length > LISTED_PROBLEMS) listed.push(`  - and ${problems.length - LISTED_PROBLEMS} more`);
    super(`${source} does not fit the model:\n${listed.join('\n')}`);
  }
}

/** A key or shape of the file, for a message: the file is untrusted, its keys can be megabytes long. */
const shownKey = (key: string): string => (key.length > 80 ? `${key.slice(0, 77)}...` : key);
const shownShape = (shape: readonly number[]): string => (shape.length > 8 ? `[${shape.slice(0, 8)},... (${shape.length} dimensions)]` : `[${shape}]`);

/**
 * The file's tensors in our layout, one per parameter, named like the parameters (the caller
 * owns the tensors). Every key and shape is checked first; all problems are reported at once.
 */
function fromFileTensors(mappings: readonly Mapping[], contents: SafetensorsContents, source: string, model: ComponentSpec): NamedTensor[] {
  const problems: string[] = [];
  const expected = new Set(mappings.map((m) => m.key));
  for (const { key, shape } of mappings) {
    const stored = contents.tensors.get(key);
    if (!stored) problems.push(`missing key '${key}' (expected F32 [${shape}])`);
    else if (stored.dtype !== 'F32') problems.push(`key '${key}': wrong dtype ${stored.dtype}, expected F32`);
    else if (stored.shape.join() !== shape.join()) problems.push(`key '${key}': wrong shape ${shownShape(stored.shape)}, expected [${shape}]`);
  }
  for (const [key, stored] of contents.tensors) {
    if (!expected.has(key)) problems.push(`unexpected key '${shownKey(key)}' (${stored.dtype} ${shownShape(stored.shape)})`);
  }
  if (problems.length > 0) {
    const note = otherModelNote(contents, model);
    throw new WeightsLayoutError(source, note ? [note, ...problems] : problems);
  }

  return mappings.map(({ parameter, key, shape, fromFile }) => {
    const stored = contents.tensors.get(key)!;
    const tensor = tf.tidy(() => fromFile(tf.tensor(float32Values(stored), shape, 'float32')));
    return { name: parameter.name, tensor };
  });
}

/** When the keys do not fit, a file Model Lab exported from another model says so first (the likely cause). */
function otherModelNote(contents: SafetensorsContents, model: ComponentSpec): string | undefined {
  const exportedFrom = contents.metadata.model;
  if (contents.metadata.producer !== 'model-lab' || exportedFrom === undefined || exportedFrom === model.name) return undefined;
  return `the file was exported from model '${shownKey(exportedFrom)}', this run's model is '${model.name}'`;
}

// ---------------------------------------------------------------------------------------------
// Whole checkpoints <-> safetensors files in the reference layout.

/** The model a spec builds, for its parameter list; disposed after `use`. */
function withModelParameters<T>(spec: ResolvedSpec, use: (parameters: readonly Parameter[], experiment: Experiment) => T): T {
  const experiment = buildExperiment(spec);
  try {
    return use(experiment.model.parameters, experiment);
  } finally {
    disposeExperiment(experiment);
  }
}

/** The keys and shapes in the file of the model a spec builds (the reference's, then `model_lab.` ones). */
export function officialLayoutOf(spec: ResolvedSpec): OfficialEntry[] {
  return withModelParameters(spec, (parameters) => officialLayout(spec.model, parameters));
}

/** A checkpoint's weights as a safetensors file with the reference's keys (F32, PyTorch layout). */
export function exportCheckpoint(spec: ResolvedSpec, checkpoint: Checkpoint): Uint8Array {
  return withModelParameters(spec, (parameters) => {
    restoreWeights(parameters, checkpoint.weights);
    const mappings = mappingsOf(spec.model, parameters);
    return encodeSafetensors(toFileTensors(mappings), {
      format: 'pt',
      producer: 'model-lab',
      model: spec.model.name,
      experiment: spec.name,
      step: String(checkpoint.step),
      ...layoutMetadata(spec.model, mappings),
    });
  });
}

/**
 * A checkpoint at `step` holding the weights of a safetensors file in the layout export writes (every
 * key and shape checked against the spec's model), with a fresh optimizer state: resuming from it
 * trains on from the imported weights as if they were an initialisation.
 */
export function importCheckpoint(spec: ResolvedSpec, file: Uint8Array, source: string, step: number): Checkpoint {
  const contents = decodeSafetensors(file, source);
  return withModelParameters(spec, (parameters) => {
    const weights = fromFileTensors(mappingsOf(spec.model, parameters), contents, source, spec.model);
    const optimizer = createOptimizer(spec.training, parameters);
    const fresh = optimizer.state().tensors.map(({ name, tensor }) => ({ name, tensor: tensor.clone() }));
    tf.dispose(optimizer.state().tensors.map((t) => t.tensor));
    return { step, weights, optimizer: fresh, loop: { optimizerSteps: 0, lossSum: 0, lossCount: 0, elapsed: 0 } };
  });
}
