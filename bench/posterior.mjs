// The posterior lab's accuracy benchmark: Gaussian mean (2-D) and linear regression (1-D inputs),
// forward and reverse KL, Gaussian family, default small transformer (the templates), trained
// through the CLI two at a time. Reports the final predictive L2 against the exact-posterior
// floor measured by the same evaluator, and the symmetric KL to the exact posterior divided by
// dim theta. Targets from the issue: L2 within 5% of the floor, symmetric KL under 0.1.
//
//   npm run build && node bench/posterior.mjs [--steps 1500] [--parallel 2] [--out DIR]
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: { steps: { type: 'string', default: '1500' }, parallel: { type: 'string', default: '2' }, out: { type: 'string' } },
});
const outDir = args.out ?? fs.mkdtempSync(path.join(os.tmpdir(), 'model-lab-posterior-'));
fs.mkdirSync(outDir, { recursive: true });

const template = (name) => JSON.parse(fs.readFileSync(path.join(root, 'templates', `${name}.lab.json`), 'utf8'));
const objectives = { 'forward-kl': { name: 'forward-kl' }, 'reverse-kl': { name: 'reverse-kl', samples: 4, warmupSteps: 300 } };
const jobs = ['posterior-gaussian-mean', 'posterior-linear-regression'].flatMap((task) =>
  Object.entries(objectives).map(([key, objective]) => {
    const spec = { ...template(task), name: `bench-${task}-${key}`, objective };
    spec.training = { ...spec.training, steps: Number(args.steps), evalEvery: Math.round(Number(args.steps) / 5), evalBatches: 8 };
    return { label: `${task.replace('posterior-', '')} ${key}`, spec };
  }),
);

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
      resolve({ label, runDir: stdout.trim().split('\n').pop(), seconds: (Date.now() - started) / 1000 });
    });
  });
}

const queue = [...jobs];
const results = [];
await Promise.all(
  Array.from({ length: Number(args.parallel) }, async () => {
    while (queue.length) {
      const job = queue.shift();
      const result = await train(job);
      const evals = fs.readFileSync(path.join(result.runDir, 'metrics.jsonl'), 'utf8').trim().split('\n')
        .map((l) => JSON.parse(l)).filter((r) => 'eval/train/predictive-l2' in r.values);
      results.push({ ...result, last: evals[evals.length - 1].values, curve: evals.map((r) => [r.step, r.values]) });
      console.error(`done ${job.label} in ${result.seconds.toFixed(0)} s`);
    }
  }),
);

console.log(`\nPosterior benchmark, ${args.steps} steps each, default transformer, Gaussian family`);
console.log('workload                          predictive L2   exact floor   L2/floor   symmetric KL / dim   s/run');
const summary = {};
for (const r of results.sort((a, b) => a.label.localeCompare(b.label))) {
  const l2 = r.last['eval/train/predictive-l2'];
  const floor = r.last['eval/train/exact-predictive-l2'];
  const kl = r.last['eval/train/symmetric-kl'];
  summary[r.label] = { predictiveL2: l2, floor, ratio: l2 / floor, symmetricKl: kl, seconds: r.seconds, within5: l2 <= 1.05 * floor, klUnder01: kl < 0.1 };
  console.log(`${r.label.padEnd(34)}${l2.toFixed(4).padEnd(16)}${floor.toFixed(4).padEnd(14)}${(l2 / floor).toFixed(3).padEnd(11)}${kl.toFixed(4).padEnd(21)}${r.seconds.toFixed(0)}`);
}
console.log(JSON.stringify({ steps: Number(args.steps), summary }));
