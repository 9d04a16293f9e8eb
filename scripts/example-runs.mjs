#!/usr/bin/env node
// Trains the example runs shipped in the VSIX (example-runs/, opened by "Model Lab: Open Example
// Run"): one small run per lab, from one of its templates with a fixed seed and budget, through
// the real CLI (dist/cli.js train, the launch path every run takes), then moves each finished
// run folder into example-runs/, replacing that lab's previous example. Each must meet its lab's
// "has learned" rule (test/unit/exampleRuns.test.ts checks it, and the size, on the committed runs).
// Their run.json names the temp experiment file they were trained from (deleted at the end): the
// copy "Open Example Run" makes drops it (src/host/runs/exampleRuns.ts copyExampleRun).
//
//   npm run build && node scripts/example-runs.mjs [lab ...]     (default: every lab)
//
// Budgets are chosen to learn in a few minutes on one core and to stay small on disk (2 MB in all):
// one checkpoint kept, metrics logged sparsely. The relational example trains with plain SGD: CoRelNet's encoder has
// about 200k weights, and Adam's two moments would triple a 0.8 MB checkpoint.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
export const EXAMPLE_RUNS_DIR = join(repoRoot, 'example-runs');

/** One example per lab: the template it starts from and what the example changes. */
const EXAMPLES = [
  {
    lab: 'retrieval',
    template: 'retrieval-compositional',
    description:
      'Example run: compositional attention on the Contextual Retrieval Task (out-of-distribution split), trained briefly at a high learning rate so the search maps and the retrieval each search picks are already sharp.',
    training: { steps: 3000, batchSize: 128, learningRate: 0.001, logEvery: 25, evalEvery: 250, evalBatches: 4, checkpointEvery: 3000, keepCheckpoints: 1 },
  },
  {
    lab: 'relational',
    template: 'relational-same-diff-corelnet',
    description:
      'Example run: CoRelNet on same/different, 5 training glyphs and 95 unseen ones, trained with plain SGD (a small checkpoint to ship); its similarity matrix tells same from different.',
    training: { steps: 400, optimizer: 'sgd', learningRate: 0.05, logEvery: 10, evalEvery: 100, checkpointEvery: 400, keepCheckpoints: 1 },
  },
  {
    lab: 'posterior',
    template: 'posterior-gaussian-mean',
    description: 'Example run: the amortized posterior of a 2-D Gaussian mean next to the exact posterior; add or drag data points and it follows from one forward pass.',
    training: { steps: 1200, logEvery: 25, evalEvery: 400, checkpointEvery: 1200, keepCheckpoints: 1 },
  },
  {
    lab: 'sampler',
    template: 'sampler-gmm25-tb-exploration',
    description:
      'Example run: a diffusion sampler of a mixture of 9 Gaussians on the grid {-5, 0, 5}^2, trained by trajectory balance with exploration; its samples and trajectories over the energy contours, and samples per mode.',
    task: { name: 'sampler-gmm', means: [-5, 0, 5].flatMap((x) => [-5, 0, 5].map((y) => [x, y])) },
    training: { steps: 750, logEvery: 25, evalEvery: 250, checkpointEvery: 750, keepCheckpoints: 1 },
  },
];

function train(example) {
  const folder = mkdtempSync(join(tmpdir(), `model-lab-example-${example.lab}-`));
  const spec = JSON.parse(readFileSync(join(repoRoot, 'templates', `${example.template}.lab.json`), 'utf8'));
  const name = `example-${example.lab}`;
  spec.name = name;
  spec.description = example.description;
  spec.seed = 0;
  spec.training = { ...spec.training, ...example.training };
  for (const part of ['task', 'model', 'objective']) if (example[part]) spec[part] = { ...spec[part], ...example[part] };
  const specFile = join(folder, `${name}.lab.json`);
  writeFileSync(specFile, JSON.stringify(spec, null, 2) + '\n');
  const runs = join(folder, 'runs');
  const result = spawnSync(process.execPath, [join(repoRoot, 'dist', 'cli.js'), 'train', specFile, '--out', runs, '--backend', 'wasm'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (result.status !== 0) throw new Error(`model-lab train ${name} failed (exit ${result.status})`);
  const runDir = result.stdout.trim().split('\n').pop();
  return { name, runDir, folder };
}

/** The example folders of a lab already in example-runs/ (by the experiment name in run.json). */
function previousExamples(name) {
  if (!existsSync(EXAMPLE_RUNS_DIR)) return [];
  return readdirSync(EXAMPLE_RUNS_DIR).filter((id) => {
    try {
      return JSON.parse(readFileSync(join(EXAMPLE_RUNS_DIR, id, 'run.json'), 'utf8')).experiment === name;
    } catch {
      return false;
    }
  });
}

const wanted = process.argv.slice(2);
const unknown = wanted.filter((lab) => !EXAMPLES.some((example) => example.lab === lab));
if (unknown.length > 0) {
  console.error(`unknown lab ${unknown.join(', ')}: known are ${EXAMPLES.map((e) => e.lab).join(', ')}`);
  process.exit(2);
}
mkdirSync(EXAMPLE_RUNS_DIR, { recursive: true });
for (const example of EXAMPLES.filter((e) => wanted.length === 0 || wanted.includes(e.lab))) {
  const { name, runDir, folder } = train(example);
  for (const old of previousExamples(name)) rmSync(join(EXAMPLE_RUNS_DIR, old), { recursive: true, force: true });
  cpSync(runDir, join(EXAMPLE_RUNS_DIR, basename(runDir)), { recursive: true });
  rmSync(folder, { recursive: true, force: true });
  console.log(join('example-runs', basename(runDir)));
}
