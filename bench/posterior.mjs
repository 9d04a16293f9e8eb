// The posterior lab's accuracy benchmark, every sample from the trained network (default small
// transformer of the templates, trained through the CLI, `--parallel` at a time):
//   - targets of the issue: Gaussian mean (2-D) and linear regression (1-D inputs), forward and
//     reverse KL, Gaussian family: predictive L2 within 5% of the exact-posterior floor measured
//     by the same evaluator, and symmetric KL to the exact posterior / dim theta under 0.1;
//   - next to the paper's table (docs/research/amortized-posterior.md, transformer encoder): linear
//     classification 2-D (accuracy), nonlinear regression 1-D (one ReLU layer of 32, L2), and
//     the flow family on the 2-cluster mixture in 2-D (L2);
//   - misspecification (docs/research/amortized-posterior.md, "Misspecification"; `--only misspecified-nlr`): the NLR
//     1-D model (one ReLU layer of 32) on Gaussian-process data (RBF, lengthscale 1), Gaussian
//     family: forward KL and reverse KL trained on the NLR simulator, reverse KL trained on the
//     GP data itself; the metric is the predictive L2 on the GP split. The notes give two paper
//     numbers: forward KL (trained on the simulator) 14.7, reverse KL trained on GP data 0.155.
// The paper trains 20k-200k steps at batch 128 with a 3.2M-parameter transformer; these runs are
// minutes on a laptop CPU, so the paper column is where the method can go, not a target.
//
// Each run trains for its template's own budget (training.steps) unless --steps sets one for all.
//
//   npm run build && node bench/posterior.mjs [--steps N] [--schedule cosine|constant]
//       [--parallel 2] [--only gaussian-mean,linear-regression,misspecified-nlr,...] [--out DIR]
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    steps: { type: 'string' },
    schedule: { type: 'string', default: 'cosine' },
    parallel: { type: 'string', default: '2' },
    only: { type: 'string' },
    out: { type: 'string' },
  },
});
const outDir = args.out ?? fs.mkdtempSync(path.join(os.tmpdir(), 'model-lab-posterior-'));
fs.mkdirSync(outDir, { recursive: true });

const template = (name) => JSON.parse(fs.readFileSync(path.join(root, 'templates', `posterior-${name}.lab.json`), 'utf8'));
const forwardKl = { name: 'forward-kl' };
const reverseKl = { name: 'reverse-kl', samples: 4, warmupSteps: 300 };
// [task template, objective, family, the paper's number for this column (transformer encoder)]
const WORKLOADS = [
  ['gaussian-mean', forwardKl, 'gaussian', 2.013],
  ['gaussian-mean', reverseKl, 'gaussian', 2.013],
  ['linear-regression', forwardKl, 'gaussian', 0.264],
  ['linear-regression', reverseKl, 'gaussian', 0.264],
  ['linear-classification', reverseKl, 'gaussian', 0.943],
  ['nonlinear-regression', reverseKl, 'flow', 0.387],
  ['gaussian-mixture', reverseKl, 'flow', 0.187],
].map(([task, objective, family, paper]) => ({ group: task, id: `${task}-${objective.name}-${family}`, label: `${task} ${objective.name} ${family}`, task, objective, family, paper }));

// Misspecification: the same NLR 1-D model, every run evaluated on the 'gaussian-process' split.
// Which paper number is which: 14.7 is forward KL trained on the simulator, 0.155 reverse KL
// trained on the GP data; the notes give none for reverse KL trained on the simulator. Our GP
// data has the regression tasks' noise (variance 0.25), so no predictor scores below 0.25 here
// (samples of the exact GP posterior: about 0.29); 0.155 implies the paper's GP data was less noisy.
const misspecified = (objective, dataSource, paper, paperNote) => ({
  group: 'misspecified-nlr',
  id: `misspecified-nlr-${objective.name}-gaussian-on-${dataSource}`,
  label: `misspecified NLR ${objective.name} gaussian, trained on ${dataSource === 'simulator' ? 'the NLR simulator' : 'GP data'}`,
  task: 'nonlinear-regression',
  taskOptions: { dataSource, gaussianProcessSplit: true },
  split: 'gaussian-process',
  objective,
  family: 'gaussian',
  paper,
  paperNote,
});
WORKLOADS.push(
  misspecified(forwardKl, 'simulator', 14.7, 'fwd-KL Gauss, trained on simulator'),
  misspecified(reverseKl, 'simulator', undefined, 'none in the notes'),
  misspecified(reverseKl, 'gaussian-process', 0.155, 'rev-KL Gauss, trained on GP data'),
);

// `--only` takes groups (a task template, or misspecified-nlr) or single workload ids.
const only = args.only?.split(',');
const jobs = WORKLOADS.filter((w) => !only || only.includes(w.group) || only.includes(w.id)).map((w) => {
  const spec = template(w.task);
  spec.name = `bench-${w.id}`;
  spec.task = { ...spec.task, ...w.taskOptions };
  spec.objective = w.objective;
  spec.model = { ...spec.model, family: w.family };
  const steps = args.steps === undefined ? spec.training.steps : Number(args.steps);
  // 64 batches = 2048 data sets per evaluation: the symmetric KL per data set is heavy-tailed, and
  // over 256 sets the same network scored 0.194 where 4096 fresh sets give 0.096 ± 0.018.
  spec.training = { ...spec.training, steps, learningRateSchedule: args.schedule, evalEvery: Math.round(steps / 5), evalBatches: 64, checkpointEvery: steps };
  return { label: w.label, spec, steps, split: w.split ?? 'train', paper: w.paper, paperNote: w.paperNote };
});
if (only && jobs.length === 0) throw new Error(`--only ${args.only}: no workload matches; groups are ${[...new Set(WORKLOADS.map((w) => w.group))].join(', ')}`);

function train({ label, spec }) {
  const file = path.join(outDir, `${spec.name}.lab.json`);
  fs.writeFileSync(file, JSON.stringify(spec, null, 2));
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'dist/cli.js'), 'train', file, '--out', path.join(outDir, 'runs')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let last = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (last = c.toString().trim().split('\n').pop()));
    const timer = setInterval(() => console.error(`  ${label}: ${last}`), 60_000);
    child.on('exit', (code) => {
      clearInterval(timer);
      if (code !== 0) return reject(new Error(`${label} exited with ${code}: ${last}`));
      resolve({ runDir: stdout.trim().split('\n').pop(), seconds: (Date.now() - started) / 1000 });
    });
  });
}

/** The last evaluation of a run on `split`: its predictive metric (L2 or accuracy), the exact floor and the symmetric KL when logged. */
function lastEvaluation(runDir, split) {
  const evals = fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n')
    .map((line) => JSON.parse(line)).filter((record) => Object.keys(record.values).some((key) => key.startsWith('eval/')));
  const values = evals[evals.length - 1].values;
  const metric = `eval/${split}/predictive-l2` in values ? 'l2' : 'accuracy';
  return {
    metric: split === 'train' ? metric : `${metric} (${split} split)`,
    value: values[`eval/${split}/predictive-${metric}`],
    floor: values[`eval/${split}/exact-predictive-${metric}`],
    symmetricKl: values[`eval/${split}/symmetric-kl`],
    curve: evals.map((record) => [record.step, record.values]),
  };
}

const load = () => os.loadavg().map((x) => x.toFixed(1)).join(' ');
console.error(`posterior benchmark: ${jobs.length} runs of ${args.steps ?? "their templates'"} steps (${args.schedule} learning rate), ${args.parallel} at a time; load ${load()}; out ${outDir}`);
const started = Date.now();
const queue = [...jobs];
const results = [];
await Promise.all(
  Array.from({ length: Number(args.parallel) }, async () => {
    while (queue.length) {
      const job = queue.shift();
      const run = await train(job);
      results.push({ ...job, ...run, ...lastEvaluation(run.runDir, job.split) });
      console.error(`done ${job.label} in ${run.seconds.toFixed(0)} s`);
    }
  }),
);

const fixed = (x, digits = 4) => (x === undefined ? '-' : x.toFixed(digits));
console.log(`\nPosterior benchmark, ${args.schedule} learning rate, default small transformer of the templates; load at the end ${load()}, ${((Date.now() - started) / 60000).toFixed(1)} min`);
console.log('| workload | steps | metric | ours | exact floor | ours / floor | symmetric KL / dim | paper | s/run |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
const summary = {};
const order = (r) => jobs.findIndex((job) => job.label === r.label);
for (const r of results.sort((a, b) => order(a) - order(b))) {
  const ratio = r.floor === undefined ? undefined : r.value / r.floor;
  summary[r.label] = {
    steps: r.steps, metric: r.metric, value: r.value, floor: r.floor, ratio, symmetricKl: r.symmetricKl, paper: r.paper, ...(r.paperNote ? { paperNote: r.paperNote } : {}), seconds: r.seconds, runDir: r.runDir,
    ...(ratio !== undefined ? { within5: ratio <= 1.05 } : {}),
    ...(r.symmetricKl !== undefined ? { klUnder01: r.symmetricKl < 0.1 } : {}),
  };
  const paper = `${r.paper ?? '-'}${r.paperNote ? ` (${r.paperNote})` : ''}`;
  console.log(`| ${r.label} | ${r.steps} | ${r.metric} | ${fixed(r.value)} | ${fixed(r.floor)} | ${fixed(ratio, 3)} | ${fixed(r.symmetricKl)} | ${paper} | ${r.seconds.toFixed(0)} |`);
}
console.log(JSON.stringify({ schedule: args.schedule, summary }));
