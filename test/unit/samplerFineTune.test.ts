/**
 * "Fine-tune from this checkpoint" (src/core/sampler/targetEdit.ts): the experiment written for an
 * edited target is the run's resolved spec with the task replaced (a dragged mixture becomes a
 * `sampler-gmm` with the run's std and mode rule; an expression keeps its coordinates) and
 * `init: { run, step }`; it is a valid experiment file, and its target is the edited one.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import '../../src/core/labs';
import { buildExperiment } from '../../src/core/experiment';
import { checkTargetEdit, fineTuneExperiment } from '../../src/core/sampler/targetEdit';
import { describeTarget, GMM25_MEANS, isSamplerTask } from '../../src/core/sampler/targets';
import { parseSpec } from '../../src/core/spec/validate';
import { disposeExperiment } from '../../src/core/train';
import { useWasmBackend } from '../helpers/backend';

before(useWasmBackend);

const runSpec = (task: Record<string, unknown>) => {
  const { spec, problems } = parseSpec(
    JSON.stringify({
      formatVersion: 1,
      kind: 'train',
      name: 'sampler-run',
      seed: 3,
      task,
      model: { name: 'diffusion-sampler', steps: 4, hidden: 8, harmonics: 4, tScale: 5 },
      objective: { name: 'trajectory-balance', evalSamples: 10 },
      training: { steps: 2, batchSize: 8, learningRate: 0.001, logEvery: 1, evalEvery: 2, evalBatches: 1, checkpointEvery: 2 },
    }),
    'run.lab.json',
  );
  assert.deepEqual(problems, []);
  return spec!;
};

/** The target the experiment trains on, as the panel describes it. */
function targetOf(spec: ReturnType<typeof runSpec>) {
  const experiment = buildExperiment(spec);
  try {
    assert.ok(isSamplerTask(experiment.task));
    return describeTarget(experiment.task.target);
  } finally {
    disposeExperiment(experiment);
  }
}

test('a dragged 25GMM mode: a valid sampler-gmm experiment with the edited means and weights, init at the checkpoint, the rest of the run kept', () => {
  const spec = runSpec({ name: 'sampler-gmm25', modeRadius: 1.2, modeShare: 0.02 });
  const target = targetOf(spec);
  const means = GMM25_MEANS.map((mean, k) => (k === 12 ? [2.5, 2.5] : [...mean]));
  const weights = target.mixture!.weights.map((w, k) => (k === 12 ? 0.2 : w));
  const checked = checkTargetEdit({ kind: 'mixture', means, weights }, target, 'fineTune');
  assert.ok('edit' in checked, JSON.stringify(checked));
  const experiment = fineTuneExperiment(spec as unknown as Record<string, unknown>, target, checked.edit, { run: 'run-1', step: 50 }, 'sampler-run-finetune');
  assert.deepEqual(experiment.init, { run: 'run-1', step: 50 });
  assert.equal(experiment.name, 'sampler-run-finetune');
  assert.match(String(experiment.description), /^Fine-tuned from run run-1 at step 50 \(sampler-gmm25, 1 mode moved and 1 weight changed\)/);
  for (const key of ['model', 'objective', 'training', 'seed', 'formatVersion', 'kind'] as const) assert.deepEqual(experiment[key], spec[key], key);

  const { spec: parsed, problems } = parseSpec(JSON.stringify(experiment, null, 2), 'fine-tune.lab.json');
  assert.deepEqual(problems, []);
  assert.deepEqual(parsed!.task, { name: 'sampler-gmm', means, weights, std: Math.sqrt(0.3), modeRadius: 1.2, modeShare: 0.02 });
  const edited = targetOf(parsed!);
  assert.deepEqual(edited.mixture, { means, weights, std: Math.sqrt(0.3) });
  assert.deepEqual(edited.modeRule, { radius: 1.2, share: 0.02 });
  assert.ok(edited.logZ.known && Math.abs(edited.logZ.value - Math.log(1 - 1 / 25 + 0.2)) < 1e-9, 'log Z: log of the weight sum');
});

test('an edited expression: the same task with the new log-density; a bad edit is a problem in words', () => {
  const spec = runSpec({ name: 'sampler-expression', logDensity: '-(u**2 + v**2) / 2', coordinates: ['u', 'v'], range: [-3, 3] });
  const target = targetOf(spec);
  const checked = checkTargetEdit({ kind: 'expression', logDensity: '-((u - 1)**2 + v**2) / 2' }, target, 'fineTune');
  assert.ok('edit' in checked);
  const experiment = fineTuneExperiment(spec as unknown as Record<string, unknown>, target, checked.edit, { run: 'run-2', step: 0 }, 'x');
  const { spec: parsed, problems } = parseSpec(JSON.stringify(experiment), 'x.lab.json');
  assert.deepEqual(problems, []);
  assert.deepEqual(parsed!.task, { name: 'sampler-expression', logDensity: '-((u - 1)**2 + v**2) / 2', coordinates: ['u', 'v'], range: [-3, 3] });

  assert.deepEqual(checkTargetEdit({ kind: 'expression', logDensity: '' }, target, 'fineTune'), { problem: 'fineTune: edit.logDensity must be an expression of 1..4000 characters, got ""' });
  assert.deepEqual(checkTargetEdit({ kind: 'mixture', means: [], weights: [] }, target, 'fineTune'), { problem: "fineTune: target 'expression' is not a mixture: its modes cannot be moved" });
  assert.deepEqual(checkTargetEdit(undefined, target, 'fineTune'), { problem: "fineTune: edit.kind must be 'mixture' or 'expression', got undefined" });
  // A malformed expression passes the shape check; the experiment's validation locates it.
  const bad = checkTargetEdit({ kind: 'expression', logDensity: 'u ^ 2' }, target, 'fineTune');
  assert.ok('edit' in bad);
  const located = parseSpec(JSON.stringify(fineTuneExperiment(spec as unknown as Record<string, unknown>, target, bad.edit, { run: 'run-2', step: 0 }, 'x')), 'x.lab.json').problems;
  assert.match(`${located[0]?.path}: ${located[0]?.message}`, /^\/task\/logDensity: operator '\^' is not allowed/);
});
