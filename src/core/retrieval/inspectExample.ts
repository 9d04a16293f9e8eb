/**
 * The logic of `model-lab inspect`: load a checkpoint, run the model on one example (drawn from a
 * split, or given in a file) and read the retrieval models' internals per token: which token each
 * search finds, which retrieval each search uses, next to the task's ground truth.
 */
import { GIVEN_INPUT_SPLIT, openInference, type ExampleView } from '../inference';
import type { CheckpointSource } from '../sink';
import type { ResolvedSpec } from '../spec/types';

export interface InspectRequest {
  /** Checkpoint step; default the latest. */
  step?: number;
  /** Split to draw from; default the task's first (training) split. */
  split?: string;
  /** Example index within the split; default 0. */
  example?: number;
  /** One example given by the caller (see `parseInputFile`); replaces split/example. */
  inputs?: unknown[];
  /** Where `inputs` came from (a file name), for error messages. */
  inputSource?: string;
}

export interface SearchReading {
  /** The token this search's map weighs most, and that weight. */
  finds: number;
  weight: number;
  /** alpha[s, :]: the weight of each retrieval for this search. */
  selection: number[];
  /** The retrieval with the largest weight. */
  retrieval: number;
}

export interface TokenReading {
  token: number;
  target?: number;
  prediction: number;
  /** One per model search. */
  searches: SearchReading[];
  /** One per ground-truth search: the token it finds and the retrieval the context asks for. */
  truth?: { searched: number[]; retrieved: number[] };
}

export interface Inspection {
  model: string;
  step: number;
  split: string;
  example: number;
  tokens: TokenReading[];
  /** Everything the inference session returned (inputs, raw maps, ...), for `--json`. */
  view: ExampleView;
}

export class InspectError extends Error {}

/** Pick the checkpoint step: the requested one (which must exist) or the latest. */
export function chooseCheckpointStep(steps: number[], requested?: number): number {
  if (steps.length === 0) throw new InspectError('the run has no checkpoint yet: train it first');
  if (requested === undefined) return steps[steps.length - 1];
  if (!steps.includes(requested)) {
    throw new InspectError(`no checkpoint at step ${requested}: available steps are ${steps.join(', ')}`);
  }
  return requested;
}

export async function inspectCheckpoint(spec: ResolvedSpec, source: CheckpointSource, request: InspectRequest = {}): Promise<Inspection> {
  const step = chooseCheckpointStep(source.steps(), request.step);
  const checkpoint = await source.load(step);
  let session;
  try {
    session = await openInference(spec, checkpoint);
  } finally {
    for (const { tensor } of [...checkpoint.weights, ...checkpoint.optimizer]) tensor.dispose();
  }
  try {
    let view: ExampleView;
    if (request.inputs) {
      checkShape(request.inputs, session.inputShape, request.inputSource ?? 'the given input', '');
      view = session.exampleFromInputs(request.inputs);
    } else {
      if (request.split !== undefined && !session.splits.includes(request.split)) {
        throw new InspectError(`unknown split '${request.split.slice(0, 60)}': expected one of ${session.splits.join(', ')}`);
      }
      view = session.example(request.split ?? session.splits[0], request.example ?? 0);
    }
    return { model: spec.model.name, step, split: view.split, example: view.index, tokens: readTokens(view), view };
  } finally {
    session.dispose();
  }
}

const argmax = (values: number[]) => values.reduce((best, v, i) => (v > values[best] ? i : best), 0);

/** Per-token readings of a retrieval model's example (searchMaps [S][N][N], retrievalSelection [N][S][R]). */
export function readTokens(view: ExampleView): TokenReading[] {
  const maps = view.inspect.searchMaps as number[][][] | undefined;
  const selection = view.inspect.retrievalSelection as number[][][] | undefined;
  const outputs = view.output as number[];
  const targets = view.targets as number[] | undefined;
  const truth = view.truth as { searched?: number[][]; retrieved?: number[][] } | undefined;
  if (!maps || !selection) throw new InspectError("this model exposes no 'searchMaps' and 'retrievalSelection' to read");
  return outputs.map((prediction, token) => ({
    token,
    ...(targets ? { target: targets[token] } : {}),
    prediction,
    searches: maps.map((map, s) => {
      const row = map[token];
      const finds = argmax(row);
      const alpha = selection[token][s];
      return { finds, weight: row[finds], selection: alpha, retrieval: argmax(alpha) };
    }),
    ...(truth?.searched && truth.retrieved
      ? { truth: { searched: truth.searched[token], retrieved: truth.retrieved[token] } }
      : {}),
  }));
}

const fixed = (v: number, digits = 3) => (v < 0 ? '' : ' ') + v.toFixed(digits);

/** A plain-text report: one block per token, model searches under the ground truth. */
export function describeInspection(inspection: Inspection): string {
  const where = inspection.split === GIVEN_INPUT_SPLIT ? 'given input' : `split ${inspection.split}, example ${inspection.example}`;
  const lines = [`${inspection.model} at step ${inspection.step}, ${where}`];
  for (const t of inspection.tokens) {
    const target = t.target === undefined ? '' : `  target ${fixed(t.target)}`;
    const truth = t.truth
      ? '  truth: ' + t.truth.searched.map((j, s) => `search ${s} finds ${j}, wants retrieval ${t.truth!.retrieved[s]}`).join('; ')
      : '';
    lines.push(`token ${t.token}${target}  output ${fixed(t.prediction)}${truth}`);
    t.searches.forEach((s, i) => {
      const alpha = s.selection.map((a) => a.toFixed(2)).join(' ');
      lines.push(`  model search ${i}: finds ${s.finds} (${s.weight.toFixed(2)}), retrieval ${s.retrieval}  [${alpha}]`);
    });
  }
  return lines.join('\n');
}

/**
 * An input file for `inspect --input`: JSON, either the example itself (an array of the task's
 * input shape, e.g. N tokens x F features), `{ "inputs": <that array> }`, or several examples as
 * `{ "x": [<example>, ...] }`. The shape is checked
 * against the model's task when the example runs.
 */
export function parseInputFile(text: string, file: string): unknown[][] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InspectError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  const examples = (json as { x?: unknown } | null)?.x;
  if (examples !== undefined) {
    if (!Array.isArray(examples) || examples.length === 0 || !examples.every(Array.isArray)) {
      throw new InspectError(`${file}: /x: expected a non-empty array of examples, each an array of tokens, each an array of features`);
    }
    return examples as unknown[][];
  }
  const inputs = Array.isArray(json) ? json : (json as { inputs?: unknown } | null)?.inputs;
  if (!Array.isArray(inputs)) {
    throw new InspectError(
      `${file}: expected { "x": [examples: [tokens: [features]]] }, one example (tokens x features) or { "inputs": <one example> }`,
    );
  }
  return [inputs];
}

/** `value` must be nested arrays of finite numbers of exactly `shape`; errors point into the file. */
function checkShape(value: unknown, shape: readonly number[], file: string, pointer: string): void {
  const at = pointer || '/';
  if (shape.length === 0) {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new InspectError(`${file}: ${at}: expected a finite number, got ${JSON.stringify(value)}`);
    }
    return;
  }
  if (!Array.isArray(value) || value.length !== shape[0]) {
    const got = Array.isArray(value) ? `${value.length} entries` : JSON.stringify(value);
    throw new InspectError(`${file}: ${at}: expected an array of ${shape[0]} entries (shape [${shape}]), got ${got}`);
  }
  value.forEach((item, i) => checkShape(item, shape.slice(1), file, `${pointer}/${i}`));
}
