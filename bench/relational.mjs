// Held-out accuracy of CoRelNet against the transformer and LSTM baselines on objects never seen
// in training (the m-holdout split of the CoRelNet paper), with the procedural glyphs and, when
// given, a folder of the original ESBN glyphs. Sweeps through the product's own `model-lab sweep`:
//   - same-diff (m = 0, 95, 98) and identity-rules (m = 0, 95; 98 would leave too few objects),
//     CoRelNet / transformer / LSTM with context normalisation (the defaults), `--seeds` seeds;
//   - the transformer without context normalisation on same-diff (m = 0, 95, 98).
// Prints one table per object set: final eval/test/accuracy (held-out objects only when m > 0),
// mean over seeds with the per-seed values, and the wall time. A benchmark, not a test.
//
//   npm run build && node bench/relational.mjs [--steps 300] [--identity-steps 300] [--seeds 2]
//       [--workers 2] [--original ../shared/data/esbn-glyphs] [--out DIR]
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '300' },
    'identity-steps': { type: 'string' },
    seeds: { type: 'string', default: '2' },
    workers: { type: 'string', default: '2' },
    original: { type: 'string' },
    only: { type: 'string' },
    out: { type: 'string' },
  },
});
const seeds = Array.from({ length: Number(args.seeds) }, (_, i) => i);
const outDir = path.resolve(args.out ?? fs.mkdtempSync(path.join(os.tmpdir(), 'model-lab-relational-')));
const runsDir = path.join(outDir, 'runs');
fs.mkdirSync(runsDir, { recursive: true });

const objectSets = { procedural: 'procedural' };
if (args.original) objectSets.original = { folder: path.resolve(args.original) };

const training = (steps) => ({
  steps,
  batchSize: 32,
  learningRate: 5e-4,
  logEvery: 25,
  evalEvery: Math.max(1, Math.round(steps / 3)),
  evalBatches: 8,
  checkpointEvery: steps,
  keepCheckpoints: 1,
});

function sweeps(setName, objectSet) {
  const base = (task, steps) => ({
    seed: 0,
    task: { name: task, m: 0, objectSet },
    model: { name: 'corelnet' },
    objective: { name: 'cross-entropy' },
    training: training(steps),
  });
  const models = ['corelnet', 'relational-transformer', 'relational-lstm'];
  const sweep = (name, baseSpec, grid) => ({ formatVersion: 1, kind: 'sweep', name: `${setName}-${name}`, base: baseSpec, grid: { ...grid, '/seed': seeds } });
  return [
    sweep('same-diff', base('same-diff', Number(args.steps)), { '/model/name': models, '/task/m': [0, 95, 98] }),
    sweep('identity-rules', base('identity-rules', Number(args['identity-steps'] ?? args.steps)), { '/model/name': models, '/task/m': [0, 95] }),
    sweep('same-diff-no-context-norm', { ...base('same-diff', Number(args.steps)), model: { name: 'relational-transformer', contextNorm: false } }, { '/task/m': [0, 95, 98] }),
  ].filter((s) => !args.only || s.name.includes(args.only));
}

function runSweep(file) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'dist', 'cli.js'), 'sweep', file, '--out', runsDir, '--workers', args.workers, '--backend', 'wasm'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => {
      for (const line of String(chunk).split('\n')) if (/done|failed|queued/.test(line)) process.stderr.write(`  ${line}\n`);
    });
    child.on('exit', (code) => (code === 0 ? resolve(stdout.trim().split('\n').pop()) : reject(new Error(`sweep ${file} exited ${code}`))));
  });
}

function lastValue(runDir, metric) {
  let value;
  for (const line of fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').split('\n')) {
    if (!line) continue;
    const record = JSON.parse(line);
    if (metric in record.values) value = record.values[metric];
  }
  return value;
}

/** The members recorded in the sweep folder's sweep.json (their run folders sit beside it). */
function members(sweepDir) {
  const { members: recorded } = JSON.parse(fs.readFileSync(path.join(sweepDir, 'sweep.json'), 'utf8'));
  return recorded
    .map((member) => path.join(path.dirname(sweepDir), member.runId))
    .filter((dir) => fs.existsSync(path.join(dir, 'spec.json')))
    .map((dir) => {
      const spec = JSON.parse(fs.readFileSync(path.join(dir, 'spec.json'), 'utf8'));
      const model = spec.model.name.replace('relational-', '') + (spec.model.contextNorm === false ? ' (no context norm)' : '');
      const status = JSON.parse(fs.readFileSync(path.join(dir, 'status.json'), 'utf8'));
      return { task: spec.task.name, model, m: spec.task.m, seed: spec.seed, accuracy: lastValue(dir, 'eval/test/accuracy'), train: lastValue(dir, 'eval/train/accuracy'), state: status.state };
    });
}

const pct = (x) => (x === undefined ? '-' : `${(100 * x).toFixed(1)}`);
const started = Date.now();
const load = () => os.loadavg().map((x) => x.toFixed(1)).join(' ');
console.log(`relational benchmark: steps ${args.steps} (identity-rules ${args['identity-steps'] ?? args.steps}), batch 32, seeds ${seeds.join(',')}, ${args.workers} workers; load ${load()}; out ${outDir}`);
const results = [];
for (const [setName, objectSet] of Object.entries(objectSets)) {
  for (const sweep of sweeps(setName, objectSet)) {
    const file = path.join(outDir, `${sweep.name}.lab.json`);
    fs.writeFileSync(file, JSON.stringify(sweep, null, 2));
    const t0 = Date.now();
    process.stderr.write(`${sweep.name}: training\n`);
    const sweepDir = path.resolve(await runSweep(file));
    const seconds = (Date.now() - t0) / 1000;
    for (const member of members(sweepDir)) results.push({ set: setName, ...member });
    process.stderr.write(`${sweep.name}: ${seconds.toFixed(0)} s\n`);
  }
}

for (const setName of Object.keys(objectSets)) {
  console.log(`\n## objects: ${setName === 'procedural' ? 'procedural glyphs' : `original glyphs (${objectSets[setName].folder})`}`);
  console.log('| task | model | m = 0 | m = 95 | m = 98 | training accuracy (all m) |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  const rows = new Map();
  for (const r of results.filter((x) => x.set === setName)) {
    const key = `${r.task}|${r.model}`;
    if (!rows.has(key)) rows.set(key, []);
    rows.get(key).push(r);
  }
  for (const [key, runs] of rows) {
    const [task, model] = key.split('|');
    const cell = (m) => {
      const at = runs.filter((r) => r.m === m).sort((a, b) => a.seed - b.seed);
      if (at.length === 0) return 'n/a';
      const values = at.map((r) => r.accuracy);
      if (values.some((v) => v === undefined)) return at.map((r) => r.state).join('/');
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      return `${pct(mean)}% (${values.map(pct).join(', ')})`;
    };
    const trainAccuracies = runs.map((r) => r.train).filter((v) => v !== undefined);
    const trainRange = trainAccuracies.length ? `${pct(Math.min(...trainAccuracies))}-${pct(Math.max(...trainAccuracies))}%` : '-';
    console.log(`| ${task} | ${model} | ${cell(0)} | ${cell(95)} | ${cell(98)} | ${trainRange} |`);
  }
}
console.log(`\nwall ${((Date.now() - started) / 60000).toFixed(1)} min; load ${load()}`);
console.log(JSON.stringify({ results }));
