// The lab manifests (src/core/<lab>/manifest.ts, listed in src/core/labList.ts): which lab a run
// belongs to, their option schemas against the schemas before manifests existed, the rule for
// "has learned enough to show", and the join with the worker's factories and request handlers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { LABS, labOf, labOfTemplate } from '../../src/core/labList';
import { inspectionRequest, inspectionRequestKinds, LAB_RUNTIMES, unjoinedLabs } from '../../src/core/labs';
import { findModel, modelEntries, objectiveEntries, taskEntries } from '../../src/core/registry';
import { train } from '../../src/core/train';
import { InferenceSessions } from '../../src/engine/sessions';
import { DiskRunSink, createRun } from '../../src/runs/store';
import { ATTENTION_VIEW_TYPE } from '../../src/protocol/attention';
import { POSTERIOR_VIEW_TYPE } from '../../src/protocol/posterior';
import { SAMPLER_VIEW_TYPE } from '../../src/protocol/sampler';
import { SIMILARITY_VIEW_TYPE } from '../../src/protocol/similarity';
import { useWasmBackend } from '../helpers/backend';
import { retrievalSpec } from '../helpers/specs';

const root = path.join(__dirname, '..', '..');

test('labOf: every template and example belongs to the lab that declares its task; unknown specs to none', () => {
  const expected: Record<string, string> = { retrieval: 'retrieval', relational: 'relational', posterior: 'posterior' };
  for (const folder of ['templates', 'examples']) {
    for (const file of fs.readdirSync(path.join(root, folder)).filter((f) => f.endsWith('.lab.json'))) {
      const spec = JSON.parse(fs.readFileSync(path.join(root, folder, file), 'utf8'));
      const prefix = file.split('-')[0];
      if (spec.kind !== 'train' || !(prefix in expected)) continue; // examples/broken.lab.json is about errors
      assert.equal(labOf(spec)?.id, expected[prefix], `${folder}/${file}`);
      assert.equal(labOfTemplate(file.replace(/\.lab\.json$/, ''))?.id, expected[prefix], `${folder}/${file} by its name`);
    }
  }
  assert.equal(labOf({ task: { name: 'contextual-retrieval' }, model: { name: 'multi-head-attention' } })?.runContext, 'attention');
  assert.equal(labOf({ task: { name: 'dist3' }, model: { name: 'relational-lstm' } })?.runContext, 'similarity');
  assert.equal(labOf({ task: { name: 'posterior-gaussian-mean' }, model: { name: 'amortized-posterior' } })?.runContext, 'posterior');
  // A spec whose task no lab declares belongs to the lab of its model.
  assert.equal(labOf({ task: { name: 'another-task' }, model: { name: 'compositional-attention' } })?.id, 'retrieval');
  for (const unknown of [{ task: { name: 'something-else' }, model: { name: 'x' } }, { task: { name: 'posterior-unknown' }, model: { name: 'y' } }, undefined, null, 42, 'spec', {}, { task: { name: 3 }, model: { name: 'corelnet' } }]) {
    assert.equal(labOf(unknown), undefined, JSON.stringify(unknown));
  }
});

test('the manifests declare the option schemas, descriptions and hooks the labs had before manifests (test/fixtures/option-schemas.json)', () => {
  const before = JSON.parse(fs.readFileSync(path.join(root, 'test', 'fixtures', 'option-schemas.json'), 'utf8'));
  // JSON drops TypeBox's symbol keys (its own bookkeeping, which neither Ajv nor VS Code sees).
  const one = (e: { name: string; description: string; options: unknown; kinds?: unknown; files?: unknown; recorded?: { keys: readonly string[] } }) =>
    JSON.parse(JSON.stringify({ name: e.name, description: e.description, options: e.options, ...(e.kinds ? { kinds: e.kinds } : {}), ...(e.files ? { files: true } : {}), ...(e.recorded ? { recorded: e.recorded.keys } : {}) }));
  // The labs that existed before manifests (labs added since, e.g. the sampler, are not in the fixture).
  const earlier = LABS.filter((lab) => ['retrieval', 'relational', 'posterior'].includes(lab.id));
  const declared = (role: 'tasks' | 'models' | 'objectives') => earlier.flatMap((lab) => lab[role] as readonly Parameters<typeof one>[0][]).map(one);
  assert.deepEqual({ tasks: declared('tasks'), models: declared('models'), objectives: declared('objectives') }, before);
  // The registry (what validation and the schema writer read) holds them in the same order.
  const known = new Set<string>(earlier.flatMap((lab) => [...lab.tasks, ...lab.models, ...lab.objectives].map((c) => c.name)));
  const old = <E extends { name: string }>(entries: E[]) => entries.filter((e) => known.has(e.name));
  const registered = { tasks: old(taskEntries()).map(one), models: old(modelEntries()).map(one), objectives: old(objectiveEntries()).map(one) };
  assert.deepEqual(registered, before);
});

test('every manifest is joined to its runtime: one factory per component, request kinds unique', () => {
  assert.deepEqual(unjoinedLabs(), []);
  for (const runtime of LAB_RUNTIMES) {
    const { manifest } = runtime;
    assert.deepEqual(Object.keys(runtime.tasks).sort(), manifest.tasks.map((t) => t.name).sort(), manifest.id);
    assert.deepEqual(Object.keys(runtime.models).sort(), manifest.models.map((m) => m.name).sort(), manifest.id);
    assert.deepEqual(Object.keys(runtime.objectives).sort(), manifest.objectives.map((o) => o.name).sort(), manifest.id);
  }
  assert.deepEqual(inspectionRequestKinds().sort(), [
    'attentionExample', 'posteriorCalibration', 'posteriorExample', 'posteriorReference', 'posteriorSamples', 'samplerLandscape', 'samplerSamples', 'samplerTarget', 'selectionSummary', 'similarityAverages',
  ]);
  assert.equal(inspectionRequest('samplerSamples')?.lab, 'sampler');
  assert.equal(inspectionRequest('similarityAverages')?.lab, 'relational');
  assert.equal(inspectionRequest('posteriorSamples')?.lab, 'posterior');
  assert.equal(inspectionRequest('attentionExample')?.lab, 'retrieval');
  assert.equal(inspectionRequest('example'), undefined, 'the session answers example itself');
  assert.ok(findModel('corelnet')?.create, 'the worker registry builds models');
});

test("each panel's view type is the one its page's protocol names, and each panel command is one of its lab's commands", () => {
  const viewTypes = Object.fromEntries(LABS.map((lab) => [lab.id, lab.panel?.viewType]));
  assert.deepEqual(viewTypes, { retrieval: ATTENTION_VIEW_TYPE, relational: SIMILARITY_VIEW_TYPE, posterior: POSTERIOR_VIEW_TYPE, sampler: SAMPLER_VIEW_TYPE });
  for (const lab of LABS) {
    if (lab.panel) assert.ok(lab.commands.some((command) => command.id === lab.panel!.command), lab.id);
  }
});

test('hasLearned: each lab states its rule on the final metrics, and says when it cannot judge', () => {
  const [retrieval, relational, posterior] = ['retrieval', 'relational', 'posterior'].map((id) => LABS.find((lab) => lab.id === id)!);
  assert.equal(retrieval.hasLearned({ 'eval/train/l1': 0.3, 'eval/ood/l1': 0.7 }).verdict, 'learned');
  assert.equal(retrieval.hasLearned({ 'eval/train/l1': 0.72 }).verdict, 'not-yet');
  assert.equal(retrieval.hasLearned({ 'train/loss': 0.2 }).verdict, 'unknown');
  assert.equal(relational.hasLearned({ 'eval/train/accuracy': 0.97, 'eval/test/accuracy': 0.5 }).verdict, 'learned');
  assert.equal(relational.hasLearned({ 'eval/train/accuracy': 0.55 }).verdict, 'not-yet');
  assert.equal(relational.hasLearned({ 'eval/train/accuracy': NaN }).verdict, 'unknown');
  assert.equal(posterior.hasLearned({ 'eval/train/predictive-l2': 2.05, 'eval/train/exact-predictive-l2': 2.01 }).verdict, 'learned');
  assert.equal(posterior.hasLearned({ 'eval/train/predictive-l2': 5.6, 'eval/train/exact-predictive-l2': 2.01 }).verdict, 'not-yet');
  assert.equal(posterior.hasLearned({ 'eval/train/predictive-accuracy': 0.9 }).verdict, 'learned');
  assert.equal(posterior.hasLearned({ 'eval/train/predictive-accuracy': 0.52 }).verdict, 'not-yet');
  assert.equal(posterior.hasLearned({ 'eval/train/predictive-l2': 0.4 }).verdict, 'unknown', 'no exact floor: no verdict');
  const sampler = LABS.find((lab) => lab.id === 'sampler')!;
  assert.equal(sampler.hasLearned({ 'eval/train/modes-covered': 21, 'eval/train/modes-total': 25 }).verdict, 'learned');
  assert.equal(sampler.hasLearned({ 'eval/train/modes-covered': 9, 'eval/train/modes-total': 25 }).verdict, 'not-yet');
  assert.equal(sampler.hasLearned({ 'eval/train/log-z-elbo': -1 }).verdict, 'unknown', 'no modes (not a mixture): no verdict');
  assert.match(posterior.hasLearned({ 'eval/train/predictive-l2': 2.05, 'eval/train/exact-predictive-l2': 2.01 }).reason, /1\.02x/);
});

test('inspection requests dispatch through the lab registry; another lab\'s request and an unknown kind get clear errors', async () => {
  await useWasmBackend();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'model-lab-dispatch-'));
  const sessions = new InferenceSessions();
  try {
    const model = { name: 'multi-head-attention', dim: 8, heads: 2, concat: true };
    const spec = retrievalSpec({ model, task: { retrievalFeatures: 2 }, training: { steps: 2, checkpointEvery: 2, evalEvery: 2, logEvery: 1 } });
    const runDir = createRun(path.join(dir, 'runs'), spec, {
      environment: { backend: { name: 'wasm', requested: 'wasm', version: tf.version.tfjs }, versions: {}, workers: 1, platform: 'test' },
    });
    const sink = new DiskRunSink(runDir);
    await train({ spec, sink, shouldStop: () => false });
    sink.setState('completed');
    sink.close();
    await sessions.open('s', runDir);
    // The retrieval lab's handler answers its request (registered by src/core/retrieval/runtime.ts).
    const example = await sessions.request('s', 'attentionExample', { split: 'ood', index: 1 });
    assert.equal(example.split, 'ood');
    assert.equal(example.index, 1);
    assert.equal(example.searches, 2);
    await assert.rejects(
      sessions.request('s', 'posteriorExample', { index: 0 }),
      /Inference request 'posteriorExample' is for runs of the posterior lab; this run \(task 'contextual-retrieval', model 'multi-head-attention'\) is of the retrieval lab/,
    );
    await assert.rejects(
      sessions.request('s', 'nope' as 'steps', {}),
      /Unknown inference request kind: nope \(known: example, steps, load, splits, attentionExample, selectionSummary, similarityAverages, posteriorSamples, posteriorReference, posteriorCalibration, posteriorExample, samplerTarget, samplerSamples, samplerLandscape\)/,
    );
    // The session still answers after refusing.
    assert.deepEqual(await sessions.request('s', 'steps', {}), [2]);
  } finally {
    sessions.closeAll();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
