/** Deterministic fake runs for the webview harness: two runs with loss and eval curves. */
import type { BackendInfo, MetricRecord, RunSummary } from '../../src/protocol';
import type { LabMiniature } from '../../src/protocol/live';

/** Small LCG: the harness must draw the same pictures every time. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

export function fakeMetrics(seed: number, steps: number, scale: number): MetricRecord[] {
  const rand = random(seed);
  const records: MetricRecord[] = [];
  for (let step = 10; step <= steps; step += 10) {
    const loss = scale * (0.15 + 2.2 * Math.exp(-step / 180)) * (1 + 0.25 * (rand() - 0.5));
    records.push({ step, time: step * 42, values: { 'train/loss': loss } });
    if (step % 100 === 0) {
      const l1 = 0.1 + scale * 0.9 * Math.exp(-step / 250);
      records.push({ step, time: step * 42 + 5, values: { 'eval/id/l1': l1, 'eval/ood/l1': l1 * 1.6 + 0.05 * rand() } });
    }
  }
  return records;
}

export function fakeRun(id: string, name: string, state: RunSummary['state'], step: number, createdAt: string): RunSummary {
  return {
    id,
    dir: `/workspace/runs/${id}`,
    name,
    experiment: 'retrieval',
    state,
    step,
    totalSteps: 1000,
    createdAt,
    notes: '',
    tags: [],
  };
}

export function fakeSpec(heads: number, learningRate: number): unknown {
  return {
    formatVersion: 1,
    kind: 'train',
    name: 'retrieval',
    seed: 7,
    task: { name: 'contextual-retrieval', sequenceLength: 32, dim: 16 },
    model: { name: 'multi-head-attention', heads, width: 64, layers: 2 },
    objective: { name: 'l1' },
    training: { steps: 1000, batchSize: 64, learningRate, optimizer: 'adam', logEvery: 10, evalEvery: 100, evalBatches: 4, checkpointEvery: 250, keepCheckpoints: 3 },
  };
}

export const fakeBackend: BackendInfo = { name: 'wasm', requested: 'auto', version: '4.22.0', fallbackReason: 'tfjs-node is not installed' };

/** The 'state' message a dashboard of two runs receives. */
export function twoRunState() {
  const a = fakeRun('20250101-120000-retrieval', 'retrieval 4 heads', 'completed', 1000, '2025-01-01T12:00:00Z');
  const b = fakeRun('20250102-090000-retrieval', 'retrieval 8 heads', 'running', 620, '2025-01-02T09:00:00Z');
  return {
    type: 'state' as const,
    runs: [b, a],
    metrics: { [a.id]: fakeMetrics(1, 1000, 1), [b.id]: fakeMetrics(2, 620, 0.8) },
    specs: { [a.id]: fakeSpec(4, 0.001), [b.id]: fakeSpec(8, 0.0005) },
    backends: { [a.id]: fakeBackend, [b.id]: fakeBackend },
  };
}

// ------------------------------------------------------------------ lab miniatures (Live view)

/** Attention: each token's search picks one retrieval most of the time (rows of a softmax). */
export function fakeAttentionMiniature(runId: string, step: number): LabMiniature {
  const rand = random(11);
  const tokens = 12, searches = 2, retrievals = 3;
  const matrix = Array.from({ length: tokens }, (_, t) =>
    Array.from({ length: searches }, (_, s) => {
      const logits = Array.from({ length: retrievals }, (_, r) => (r === (t + s) % retrievals ? 3 : 0) + rand());
      const exps = logits.map(Math.exp);
      const sum = exps.reduce((a, b) => a + b, 0);
      return exps.map((e) => e / sum);
    }).flat());
  return {
    runId, step,
    caption: `retrieval selection, test example 0, step ${step}`,
    open: { command: 'modelLab.openAttention', label: 'Open Attention' },
    picture: { kind: 'attention', matrix, searches, retrievals, groupPrefix: 's' },
  };
}

/** Posterior: network samples slightly wider and shifted against the exact ones. */
export function fakePosteriorMiniature(runId: string, step: number): LabMiniature {
  const rand = random(5);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const cloud = (mx: number, my: number, sd: number) => Array.from({ length: 200 }, () => [mx + sd * normal(), my + sd * normal()]);
  return {
    runId, step,
    caption: `posterior of mu[0], mu[1]: network vs exact, data set 0, step ${step}`,
    open: { command: 'modelLab.openPosterior', label: 'Open Posterior' },
    picture: { kind: 'posterior', axes: ['mu[0]', 'mu[1]'], network: cloud(0.6, -0.3, 0.35), exact: cloud(0.5, -0.2, 0.25), truth: [0.45, -0.25] },
  };
}

/** Sampler: 300 samples around the central 9 of 25GMM's modes, over the mixture's log-density on a 48 x 48 grid. */
export function fakeSamplerMiniature(runId: string, step: number): LabMiniature {
  const rand = random(7);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const modes = [-10, -5, 0, 5, 10].flatMap((a) => [-10, -5, 0, 5, 10].map((b) => [a, b]));
  const inner = modes.filter(([a, b]) => Math.abs(a) <= 5 && Math.abs(b) <= 5);
  const samples = Array.from({ length: 300 }, (_, i) => [inner[i % 9][0] + 0.55 * normal(), inner[i % 9][1] + 0.55 * normal()]);
  const grid = 48;
  const at = (i: number) => -14 + (28 * i) / (grid - 1);
  const logDensity = Array.from({ length: grid * grid }, (_, k) => {
    const [x, y] = [at(k % grid), at(Math.floor(k / grid))];
    return Math.log(modes.reduce((sum, [a, b]) => sum + Math.exp(-((x - a) ** 2 + (y - b) ** 2) / 0.6), 0) / (25 * 0.6 * Math.PI));
  });
  return {
    runId, step,
    caption: `samples over log R (x1, x2), step ${step}, 9 of 25 modes`,
    open: { command: 'modelLab.openSampler', label: 'Open Sampler' },
    picture: { kind: 'sampler', axes: ['x1', 'x2'], samples, landscape: { grid, range: [[-14, 14], [-14, 14]], logDensity }, modes },
  };
}

/** Similarity: 6 objects, pairs (0,1), (2,3), (4,5) alike. */
export function fakeSimilarityMiniature(runId: string, step: number): LabMiniature {
  const matrix = Array.from({ length: 6 }, (_, i) => Array.from({ length: 6 }, (_, j) => (i === j ? 1 : Math.floor(i / 2) === Math.floor(j / 2) ? 0.8 : 0.1 * ((i + j) % 3))));
  return {
    runId, step,
    caption: `similarity matrix, test trial 0 (same), step ${step}`,
    open: { command: 'modelLab.openSimilarity', label: 'Open Similarity' },
    picture: { kind: 'similarity', matrix },
  };
}
