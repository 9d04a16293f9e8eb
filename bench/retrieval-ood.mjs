// The paper's typical OOD setting of the Contextual Retrieval Task, compositional attention
// (S = 2 searches, R = 4 retrievals) against multi-head attention (2 heads): 2 x 4 ground truth,
// width 64, concat, batch 256, lr 1e-4, several seeds, two runs at a time (one worker each).
// Reports, per model, the final training-split and held-out L1 (mean and spread over seeds),
// held-out L1 at its best and at the first evaluation, the wall time, and both curves (mean over
// seeds at every evaluation, 20 per run). A benchmark, not a test.
// The task is the paper's (truncated split, its fixed coefficients) unless --coefficients
// ('ones', 'random') or --split-rule ('top-up', the rule before issue 25) say otherwise.
//
//   npm run build && node bench/retrieval-ood.mjs [--steps 5000] [--seeds 2] [--first-seed 0] [--parallel 2]
//     [--models compositional-attention,multi-head-attention]
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '5000' },
    seeds: { type: 'string', default: '2' },
    'first-seed': { type: 'string', default: '0' },
    models: { type: 'string', default: 'compositional-attention,multi-head-attention' },
    parallel: { type: 'string', default: '2' },
    out: { type: 'string' },
    coefficients: { type: 'string', default: 'paper' },
    'split-rule': { type: 'string', default: 'truncate' },
  },
});
const steps = Number(args.steps);
const seeds = Array.from({ length: Number(args.seeds) }, (_, i) => Number(args['first-seed']) + i);
const outDir = args.out ?? fs.mkdtempSync(path.join(os.tmpdir(), 'model-lab-ood-'));
fs.mkdirSync(outDir, { recursive: true });

const allModels = {
  'compositional-attention': { name: 'compositional-attention', dim: 64, searches: 2, retrievals: 4, concat: true },
  'multi-head-attention': { name: 'multi-head-attention', dim: 64, heads: 2, concat: true },
};
const models = Object.fromEntries(args.models.split(',').map((key) => {
  if (!(key in allModels)) throw new Error(`--models: unknown model '${key}': expected ${Object.keys(allModels).join(', ')}`);
  return [key, allModels[key]];
}));

function specFor(modelKey, seed) {
  return {
    formatVersion: 1,
    kind: 'train',
    name: `ood-${modelKey}-seed${seed}`,
    seed,
    task: { name: 'contextual-retrieval', seqLen: 10, searchFeatures: 2, retrievalFeatures: 4, split: 'ood', splitRule: args['split-rule'], coefficients: args.coefficients },
    model: models[modelKey],
    objective: { name: 'l1' },
    training: {
      steps,
      batchSize: 256,
      learningRate: 1e-4,
      logEvery: 50,
      evalEvery: Math.max(1, Math.round(steps / 20)),
      evalBatches: 10,
      checkpointEvery: steps,
      keepCheckpoints: 1,
    },
  };
}

function train(modelKey, seed) {
  const file = path.join(outDir, `${modelKey}-seed${seed}.lab.json`);
  fs.writeFileSync(file, JSON.stringify(specFor(modelKey, seed), null, 2));
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'dist/cli.js'), 'train', file, '--out', path.join(outDir, 'runs'), '--backend', 'wasm'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let lastProgress = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => {
      const lines = chunk.toString().trim().split('\n');
      lastProgress = lines[lines.length - 1];
    });
    const timer = setInterval(() => console.error(`  ${modelKey} seed ${seed}: ${lastProgress}`), 60_000);
    child.on('exit', (code) => {
      clearInterval(timer);
      if (code !== 0) return reject(new Error(`${modelKey} seed ${seed} exited with ${code}: ${lastProgress}`));
      resolve({ modelKey, seed, runDir: stdout.trim().split('\n').pop(), seconds: (Date.now() - started) / 1000 });
    });
  });
}

function evaluations(runDir) {
  return fs
    .readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))
    .filter((r) => 'eval/ood/l1' in r.values)
    .map((r) => ({ step: r.step, train: r.values['eval/train/l1'], ood: r.values['eval/ood/l1'] }));
}

const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
const sd = (xs) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));
const fmt = (xs) => `${mean(xs).toFixed(4)} ± ${sd(xs).toFixed(4)}`;

const jobs = Object.keys(models).flatMap((modelKey) => seeds.map((seed) => [modelKey, seed]));
const results = [];
const started = Date.now();
console.error(`${jobs.length} runs of ${steps} steps, ${args.parallel} at a time, in ${outDir}`);
const queue = [...jobs];
await Promise.all(
  Array.from({ length: Number(args.parallel) }, async () => {
    while (queue.length) {
      const [modelKey, seed] = queue.shift();
      const result = await train(modelKey, seed);
      console.error(`done ${modelKey} seed ${seed} in ${result.seconds.toFixed(0)} s`);
      results.push({ ...result, evals: evaluations(result.runDir) });
    }
  }),
);

const summary = {};
console.log(`\nContextual Retrieval OOD (coefficients ${args.coefficients}, split rule ${args['split-rule']}), ${steps} steps, seeds ${seeds.join(',')}, wall ${((Date.now() - started) / 60000).toFixed(1)} min`);
console.log('model                     train L1 (final)     held-out L1 (final)  held-out first eval   held-out best        s/run');
for (const modelKey of Object.keys(models)) {
  const runs = results.filter((r) => r.modelKey === modelKey);
  const last = runs.map((r) => r.evals[r.evals.length - 1]);
  const first = runs.map((r) => r.evals[0]);
  const best = runs.map((r) => Math.min(...r.evals.map((e) => e.ood)));
  summary[modelKey] = {
    trainL1: last.map((e) => e.train),
    heldOutL1: last.map((e) => e.ood),
    heldOutFirstEval: first.map((e) => e.ood),
    heldOutBest: best,
    seconds: runs.map((r) => r.seconds),
    curves: runs.map((r) => r.evals),
  };
  console.log(
    `${modelKey.padEnd(26)}${fmt(last.map((e) => e.train)).padEnd(21)}${fmt(last.map((e) => e.ood)).padEnd(21)}` +
      `${fmt(first.map((e) => e.ood)).padEnd(21)}${fmt(best).padEnd(21)}${mean(runs.map((r) => r.seconds)).toFixed(0)}`,
  );
}

// Curves: mean over seeds at each evaluation step (runs of one model evaluate at the same steps).
console.log('\nstep      ' + Object.keys(models).map((m) => `${m} train / held-out`.padEnd(44)).join(''));
const curveSteps = summary[Object.keys(models)[0]].curves[0].map((e) => e.step);
curveSteps.forEach((step, i) => {
  const cells = Object.keys(models).map((m) => {
    const at = summary[m].curves.map((curve) => curve[i]);
    return `${mean(at.map((e) => e.train)).toFixed(3)} / ${mean(at.map((e) => e.ood)).toFixed(3)}`.padEnd(44);
  });
  console.log(`${String(step).padEnd(10)}${cells.join('')}`);
});
console.log(JSON.stringify({ steps, seeds, coefficients: args.coefficients, splitRule: args['split-rule'], summary }));
