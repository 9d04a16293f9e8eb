import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { InferenceSessions } from '../../src/engine/sessions';
import { DiskRunSink, createRun } from '../../src/runs/store';
import {
  AttentionDataError,
  attentionExample,
  mutualInformation,
  SelectionSummaryBuilder,
  summarizeSelection,
  type AttentionExample,
} from '../../src/core/retrieval/attentionSummary';
import type { ExampleView } from '../../src/core/inference';
import { openInference } from '../../src/core/inference';
import { train } from '../../src/core/train';
import { useWasmBackend } from '../helpers/backend';
import { MemorySink } from '../helpers/memorySink';
import { retrievalSpec } from '../helpers/specs';

const N = 6;
const S = 2;
const R = 4;
const G = 2;
const VP = 4;

const oneHot = (size: number, at: number) => Array.from({ length: size }, (_, i) => (i === at ? 1 : 0));

/**
 * A synthetic example of N tokens: ground-truth search g of token i finds token (i + 1 + g) % N
 * and the context asks it for retrieval `wanted(i, g)`. Learned search s plays ground-truth search
 * `role[s]`: its map puts 0.9 on the token that search finds; its selection is `pick(i, s)`.
 */
function syntheticView(options: {
  index: number;
  role: number[];
  wanted: (token: number, g: number) => number;
  pick: (token: number, s: number, wanted: number[]) => number[];
}): ExampleView {
  const searched = Array.from({ length: N }, (_, i) => Array.from({ length: G }, (_, g) => (i + 1 + g) % N));
  const retrieved = Array.from({ length: N }, (_, i) => Array.from({ length: G }, (_, g) => options.wanted(i, g)));
  const searchMaps = options.role.map((g) =>
    Array.from({ length: N }, (_, i) => Array.from({ length: N }, (_, j) => (j === searched[i][g] ? 0.9 : 0.1 / (N - 1)))),
  );
  const selection = Array.from({ length: N }, (_, i) => Array.from({ length: S }, (_, s) => options.pick(i, s, retrieved[i])));
  return {
    split: 'train',
    index: options.index,
    step: 100,
    inputs: [],
    targets: new Array(N).fill(0.5),
    output: new Array(N).fill(0.25),
    truth: { searched, retrieved },
    inspect: { searchMaps, retrievalSelection: selection },
  };
}

/**
 * Balanced, independent contexts: over 8 examples (48 tokens, t = index * N + token) g = 0 asks
 * for t % 4 and g = 1 for floor(t / 4) % 4, so every pair (r*_0, r*_1) occurs 3 times.
 */
const balancedWanted = (index: number) => (token: number, g: number) => {
  const t = index * N + token;
  return g === 0 ? t % VP : Math.floor(t / VP) % VP;
};
const EIGHT = [0, 1, 2, 3, 4, 5, 6, 7];

test('attentionExample reads shapes, argmaxes and the truth of one example', () => {
  const view = syntheticView({ index: 3, role: [1, 0], wanted: balancedWanted(0), pick: (_i, _s, wanted) => oneHot(R, wanted[0]) });
  const example = attentionExample(view, VP);
  assert.deepEqual([example.tokens, example.searches, example.retrievals, example.truthSearches, example.truthRetrievals], [N, S, R, G, VP]);
  assert.equal(example.index, 3);
  // Search 0 plays ground-truth search 1: its argmax key is the token search 1 finds.
  for (let i = 0; i < N; i++) {
    assert.deepEqual(example.keyArgmax[i], [(i + 2) % N, (i + 1) % N]);
    assert.deepEqual(example.retrievalArgmax[i], [example.truth!.retrieved[i][0], example.truth!.retrieved[i][0]]);
  }
  assert.deepEqual(example.targets, new Array(N).fill(0.5));
});

test('attentionExample rejects models without search maps and truth outside the task', () => {
  const view = syntheticView({ index: 0, role: [0, 1], wanted: balancedWanted(0), pick: () => oneHot(R, 0) });
  assert.throws(() => attentionExample({ ...view, inspect: {} }, VP), AttentionDataError);
  assert.throws(() => attentionExample(view, 2), /outside 0\.\.1/);
  const badSelection = { ...view, inspect: { ...view.inspect, retrievalSelection: (view.inspect.retrievalSelection as number[][][]).slice(1) } };
  assert.throws(() => attentionExample(badSelection, VP), /retrievalSelection must be/);
  // Given inputs carry no truth: the example is still shown, the summary refuses it.
  const given = attentionExample({ ...view, truth: undefined }, VP);
  assert.equal(given.truth, undefined);
  assert.throws(() => new SelectionSummaryBuilder(VP).add(given), /ground truth/);
});

test('a fixed pairing (multi-head attention) carries no information about the context', () => {
  const examples = EIGHT.map((index) =>
    attentionExample(syntheticView({ index, role: [0, 1], wanted: balancedWanted(index), pick: (_i, s) => oneHot(R, s) }), VP),
  );
  const summary = summarizeSelection(examples, VP);
  assert.equal(summary.examples, 8);
  assert.equal(summary.tokens, 8 * N);
  assert.deepEqual(summary.counts, [[12, 12, 12, 12], [12, 12, 12, 12]]);
  assert.deepEqual(summary.information, [[0, 0], [0, 0]]);
  assert.equal(summary.maxInformation, 2);
  for (let s = 0; s < S; s++) {
    for (let g = 0; g < G; g++) {
      for (let wanted = 0; wanted < VP; wanted++) assert.deepEqual(summary.meanSelection[s][g][wanted], oneHot(R, s));
    }
  }
  assert.deepEqual(summary.searchAgreement, [[1, 0], [0, 1]]);
  assert.deepEqual(summary.matchedTruthSearch, [0, 1]);
});

test('a selection that follows the context reaches the maximum information, whatever the order of searches', () => {
  // Learned search 0 plays ground-truth search 1 and picks retrieval (r* + 1) % R for it; search 1 plays g = 0 with r* -> 3 - r*.
  const mapping = [(r: number) => (r + 1) % R, (r: number) => 3 - r];
  const role = [1, 0];
  const examples = EIGHT.map((index) =>
    attentionExample(
      syntheticView({ index, role, wanted: balancedWanted(index), pick: (_i, s, wanted) => oneHot(R, mapping[s](wanted[role[s]])) }),
      VP,
    ),
  );
  const summary = summarizeSelection(examples, VP);
  assert.deepEqual(summary.matchedTruthSearch, [1, 0]);
  assert.deepEqual(summary.searchAgreement, [[0, 1], [1, 0]]);
  assert.ok(Math.abs(summary.information[0][1] - 2) < 1e-12, `search 0 against g=1: ${summary.information[0][1]}`);
  assert.ok(Math.abs(summary.information[1][0] - 2) < 1e-12);
  // Against the other ground-truth search the choice is independent (balanced contexts): no information.
  assert.ok(summary.information[0][0] < 1e-12, `search 0 against g=0: ${summary.information[0][0]}`);
  for (let wanted = 0; wanted < VP; wanted++) {
    assert.deepEqual(summary.meanSelection[0][1][wanted], oneHot(R, mapping[0](wanted)));
    assert.deepEqual(summary.meanSelection[1][0][wanted], oneHot(R, mapping[1](wanted)));
  }
});

test('mean selection averages soft choices; contexts never seen give null (no data), not a made-up value', () => {
  const soft = (wanted: number) => [0.7, 0.1, 0.1, 0.1].map((_, r) => (r === wanted ? 0.7 : 0.1));
  const onlyTwoContexts = (token: number) => token % 2; // r* is 0 or 1 only
  const example = attentionExample(
    syntheticView({ index: 0, role: [0, 1], wanted: onlyTwoContexts, pick: (_i, _s, wanted) => soft(wanted[0]) }),
    VP,
  );
  const summary = summarizeSelection([example], VP);
  assert.deepEqual(summary.counts[0], [3, 3, 0, 0]);
  summary.meanSelection[0][0][0].forEach((v, r) => assert.ok(Math.abs(v! - (r === 0 ? 0.7 : 0.1)) < 1e-12));
  assert.deepEqual(summary.meanSelection[0][0][2], [null, null, null, null]);
  assert.deepEqual(JSON.parse(JSON.stringify(summary)), summary, 'the summary survives JSON (webview messages)');
  assert.ok(Math.abs(summary.information[0][0] - 1) < 1e-12, 'two equally likely contexts told apart: 1 bit');
});

test('mutualInformation of independent and identical variables', () => {
  assert.equal(mutualInformation([[1, 1], [1, 1]]), 0);
  assert.ok(Math.abs(mutualInformation([[5, 0], [0, 5]]) - 1) < 1e-12);
  assert.equal(mutualInformation([[0, 0], [0, 0]]), 0);
});

test('a trained multi-head model through the inference session: rigid pairing, rows summing to 1', async () => {
  await useWasmBackend();
  const spec = retrievalSpec({ training: { steps: 2, checkpointEvery: 2, evalEvery: 2, logEvery: 1 } });
  const sink = new MemorySink();
  await train({ spec, sink, shouldStop: () => false });
  const session = await openInference(spec, sink.checkpoints.get(2)!);
  try {
    const examples: AttentionExample[] = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => attentionExample(session.example('ood', i), 4));
    const summary = summarizeSelection(examples, 4);
    assert.equal(summary.tokens, 80);
    assert.equal(summary.split, 'ood');
    assert.deepEqual(summary.information, [[0, 0], [0, 0]], 'multi-head attention: head h always uses retrieval h');
    for (let g = 0; g < 2; g++) assert.equal(summary.counts[g].reduce((a, b) => a + b, 0), 80);
    for (const perTruth of summary.meanSelection) {
      for (const rows of perTruth) {
        for (const row of rows) if (!row.includes(null)) assert.ok(Math.abs(row.reduce((a, b) => a! + b!, 0)! - 1) < 1e-5);
      }
    }
    for (const example of examples) {
      for (const row of example.searchMaps[0]) assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5);
      example.keyArgmax.forEach((keys, token) => keys.forEach((key) => assert.notEqual(key, token, 'the diagonal is masked')));
    }
  } finally {
    session.dispose();
    for (const c of sink.checkpoints.values()) for (const { tensor } of [...c.weights, ...c.optimizer]) tensor.dispose();
  }
});

test('the worker session answers the panel\'s requests: splits, attentionExample, selectionSummary', async () => {
  await useWasmBackend();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'model-lab-attention-'));
  const sessions = new InferenceSessions();
  try {
    const model = { name: 'compositional-attention', dim: 16, searches: 2, retrievals: 4, concat: true, gumbel: false, separateValueKeys: false };
    const spec = retrievalSpec({ model, task: { retrievalFeatures: 3 }, training: { steps: 4, checkpointEvery: 2, evalEvery: 4, logEvery: 2 } });
    const runDir = createRun(path.join(dir, 'runs'), spec, {
      environment: { backend: { name: 'wasm', requested: 'wasm', version: tf.version.tfjs }, versions: {}, workers: 1, platform: 'test' },
    });
    const sink = new DiskRunSink(runDir);
    await train({ spec, sink, shouldStop: () => false });
    sink.setState('completed');
    sink.close();

    const opened = await sessions.open('s1', runDir);
    assert.deepEqual(opened.steps, [2, 4]);
    assert.deepEqual(await sessions.request('s1', 'splits', {}), ['train', 'ood']);
    const example = await sessions.request('s1', 'attentionExample', { split: 'ood', index: 5 });
    assert.deepEqual([example.tokens, example.searches, example.retrievals, example.truthSearches, example.truthRetrievals], [10, 2, 4, 2, 3]);
    assert.equal(example.step, 4);
    // The same example as the generic 'example' request, read the panel's way.
    const raw = await sessions.request('s1', 'example', { split: 'ood', index: 5 });
    assert.deepEqual(example.selection, raw.inspect.retrievalSelection);
    const summary = await sessions.request('s1', 'selectionSummary', { split: 'ood', examples: 6 });
    assert.equal(summary.tokens, 60);
    assert.equal(summary.maxInformation, Math.log2(3));
    const views = [];
    for (let i = 0; i < 6; i++) views.push(attentionExample(await sessions.request('s1', 'example', { split: 'ood', index: i }), 3));
    const expected = summarizeSelection(views, 3);
    assert.deepEqual(summary, expected, 'the worker summarises examples 0 .. n-1 of the split');
    await sessions.request('s1', 'load', { step: 2 });
    const earlier = await sessions.request('s1', 'selectionSummary', { split: 'ood', examples: 6 });
    assert.equal(earlier.step, 2);
    await assert.rejects(sessions.request('s1', 'selectionSummary', { split: 'ood', examples: 0 }), /whole number from 1/);
    await assert.rejects(sessions.request('s1', 'attentionExample', { split: 'nope', index: 0 }), /unknown split/);
  } finally {
    sessions.closeAll();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
