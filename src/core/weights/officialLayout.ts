/**
 * Our parameters <-> the official PyTorch state_dict of the Contextual Retrieval models
 * (research/compositional-attention.md, "The official checkpoint layout").
 *   `<key>.kernel` [in, out]          <-> `<key>.weight` [out, in]   (nn.Linear: transposed)
 *   `<key>.bias`   [out]              <-> `<key>.bias`   [out]
 *   `<key>.kernel` [R, in, out]       <-> `<key>.w`      [R, in, out] (GroupLinearLayer, `--separate`)
 *   `<key>.bias`   [R, out]           <-> `<key>.b`      [1, R, out]
 * Our parameter names already are the official module paths (`encoder.0`, `model.value_key`, ...).
 */
import * as tf from '@tensorflow/tfjs';
import { buildExperiment, type Experiment } from '../experiment';
import { createOptimizer, restoreWeights } from '../optimizers';
import type { Parameter } from '../registry';
import type { Checkpoint, NamedTensor } from '../sink';
import type { ResolvedSpec } from '../spec/types';
import { disposeExperiment } from '../train';
import { decodeSafetensors, encodeSafetensors, float32Values, type Float32Entry, type SafetensorsContents } from './safetensors';

export interface OfficialEntry {
  key: string;
  shape: number[];
}

/** How one of our parameters is stored officially. */
interface Mapping {
  parameter: Parameter;
  key: string;
  shape: number[];
  /** Our tensor -> the official layout (and back). */
  toOfficial(t: tf.Tensor): tf.Tensor;
  fromOfficial(t: tf.Tensor): tf.Tensor;
}

const same = (t: tf.Tensor) => t.clone();

function mappingOf(parameter: Parameter): Mapping {
  const { name, variable } = parameter;
  const shape = variable.shape;
  const [base, kind] = [name.slice(0, name.lastIndexOf('.')), name.slice(name.lastIndexOf('.') + 1)];
  if (kind === 'kernel' && shape.length === 2) {
    return { parameter, key: `${base}.weight`, shape: [shape[1], shape[0]], toOfficial: (t) => t.transpose(), fromOfficial: (t) => t.transpose() };
  }
  if (kind === 'kernel' && shape.length === 3) {
    return { parameter, key: `${base}.w`, shape: [...shape], toOfficial: same, fromOfficial: same };
  }
  if (kind === 'bias' && shape.length === 1) {
    return { parameter, key: `${base}.bias`, shape: [...shape], toOfficial: same, fromOfficial: same };
  }
  if (kind === 'bias' && shape.length === 2) {
    return {
      parameter,
      key: `${base}.b`,
      shape: [1, ...shape],
      toOfficial: (t) => t.reshape([1, ...shape]),
      fromOfficial: (t) => t.reshape(shape),
    };
  }
  throw new Error(`parameter '${name}' [${shape}] has no official counterpart`);
}

/** The official keys and shapes of a model's parameters, in state_dict order. */
export function officialLayout(parameters: readonly Parameter[]): OfficialEntry[] {
  return parameters.map(mappingOf).map(({ key, shape }) => ({ key, shape }));
}

/** The parameters' current values in the official layout, ready for `encodeSafetensors`. */
export function toOfficialTensors(parameters: readonly Parameter[]): Float32Entry[] {
  return parameters.map(mappingOf).map(({ parameter, key, shape, toOfficial }) => {
    const official = tf.tidy(() => toOfficial(parameter.variable));
    try {
      return { name: key, shape, data: official.dataSync() as Float32Array };
    } finally {
      official.dispose();
    }
  });
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
export function fromOfficialTensors(
  parameters: readonly Parameter[],
  contents: SafetensorsContents,
  source: string,
): NamedTensor[] {
  const mappings = parameters.map(mappingOf);
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
  if (problems.length > 0) throw new WeightsLayoutError(source, problems);

  return mappings.map(({ parameter, key, shape, fromOfficial }) => {
    const stored = contents.tensors.get(key)!;
    const tensor = tf.tidy(() => fromOfficial(tf.tensor(float32Values(stored), shape, 'float32')));
    return { name: parameter.name, tensor };
  });
}

// ---------------------------------------------------------------------------------------------
// Whole checkpoints <-> safetensors files in the official layout.

/** The model a spec builds, for its parameter list; disposed after `use`. */
function withModelParameters<T>(spec: ResolvedSpec, use: (parameters: readonly Parameter[], experiment: Experiment) => T): T {
  const experiment = buildExperiment(spec);
  try {
    return use(experiment.model.parameters, experiment);
  } finally {
    disposeExperiment(experiment);
  }
}

/** The official keys and shapes of the model a spec builds. */
export function officialLayoutOf(spec: ResolvedSpec): OfficialEntry[] {
  return withModelParameters(spec, officialLayout);
}

/** A checkpoint's weights as a safetensors file with the official keys (F32, PyTorch layout). */
export function exportCheckpoint(spec: ResolvedSpec, checkpoint: Checkpoint): Uint8Array {
  return withModelParameters(spec, (parameters) => {
    restoreWeights(parameters, checkpoint.weights);
    return encodeSafetensors(toOfficialTensors(parameters), {
      format: 'pt',
      producer: 'model-lab',
      model: spec.model.name,
      experiment: spec.name,
      step: String(checkpoint.step),
    });
  });
}

/**
 * A checkpoint at `step` holding the weights of a safetensors file in the official layout (every
 * key and shape checked against the spec's model), with a fresh optimizer state: resuming from it
 * trains on from the imported weights as if they were an initialisation.
 */
export function importCheckpoint(spec: ResolvedSpec, file: Uint8Array, source: string, step: number): Checkpoint {
  const contents = decodeSafetensors(file, source);
  return withModelParameters(spec, (parameters) => {
    const weights = fromOfficialTensors(parameters, contents, source);
    const optimizer = createOptimizer(spec.training, parameters);
    const fresh = optimizer.state().tensors.map(({ name, tensor }) => ({ name, tensor: tensor.clone() }));
    tf.dispose(optimizer.state().tensors.map((t) => t.tensor));
    return { step, weights, optimizer: fresh, loop: { optimizerSteps: 0, lossSum: 0, lossCount: 0, elapsed: 0 } };
  });
}
