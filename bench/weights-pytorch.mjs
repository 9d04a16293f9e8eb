// `model-lab weights export` against the PyTorch references: a short CoRelNet run and a short
// posterior run are trained and exported with the CLI, each file is loaded into its reference
// module in bench/reference/ (corelnet.py, posterior.py) with load_state_dict(strict=True), and
// both sides compute the loss on one fixed batch (ours from the run's checkpoint, and again from
// the file read back by import). Not in CI: it needs Debian's python3-torch.
//
//   npm run build && node bench/weights-pytorch.mjs [--steps 20] [--keep DIR]
//
// Besides the loss, a probe is compared entry by entry (largest difference / largest entry):
// CoRelNet's raw similarity Z Z^T (its loss hides the encoder: the masked softmax of R saturates
// after context norm, so even a wrong encoder gives the same loss) and the posterior's output.
// Prints a table, then one JSON line {"cases": {...}, "max_relative", "max_probe_relative", ...};
// exits 1 if the loss or the probe differ by more than 1e-4, if the file read back gives another
// loss or probe, or if a weight read in a wrong layout (its first weight flipped along the last
// axis) moves the probe by less than 1e-2 (a check that could not see a layout mistake).
// The posterior run trains with its template's reverse KL; the loss compared is the forward KL
// (-log q(theta | D), what posterior.py computes), on the run's weights.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({ options: { steps: { type: 'string', default: '20' }, keep: { type: 'string' } } });
const PYTHON = '/usr/bin/python3'; // Debian's, where python3-torch installs
const CLI = path.join(root, 'dist/cli.js');
const TOLERANCE = 1e-4;

const CASES = [
  // Identity rules (9 objects), not same-diff: context norm over 2 objects leaves the similarity
  // matrix nearly independent of the encoder's weights, so a layout mistake there would not show.
  { name: 'corelnet', template: 'relational-identity-rules-corelnet', reference: 'corelnet', objective: { name: 'cross-entropy' }, probe: 'raw similarity Z Z^T' },
  { name: 'posterior', template: 'posterior-linear-regression', reference: 'posterior', objective: { name: 'forward-kl' }, probe: 'condition (mean, log-variance)' },
];

const tmp = args.keep ? path.resolve(args.keep) : fs.mkdtempSync(path.join(os.tmpdir(), 'model-lab-weights-pytorch-'));
fs.mkdirSync(tmp, { recursive: true });
try {
  main();
} finally {
  if (!args.keep) fs.rmSync(tmp, { recursive: true, force: true });
}

function main() {
  if (!fs.existsSync(CLI)) throw new Error('dist/cli.js is missing: run npm run build first');
  const results = {};
  for (const c of CASES) {
    const dir = path.join(tmp, c.name);
    fs.mkdirSync(dir, { recursive: true });
    const run = lastLine(execFileSync(process.execPath, [CLI, 'train', path.join(root, 'templates', `${c.template}.lab.json`), '--steps', args.steps, '--out', path.join(dir, 'runs')], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    const file = path.join(dir, `${c.name}.safetensors`);
    execFileSync(process.execPath, [CLI, 'weights', 'export', run, file], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    const template = JSON.parse(fs.readFileSync(path.join(root, 'templates', `${c.template}.lab.json`), 'utf8'));
    const ours = json(process.execPath, ['--import', 'tsx', path.join(root, 'bench/lib/weightsPytorch.ts'), JSON.stringify({ run, file, dir, objective: c.objective, batchSize: template.training.batchSize, seed: 1 })]);
    const torch = json(PYTHON, [path.join(root, 'bench/reference/weights_check.py'), '--file', file, '--dir', dir, '--reference', c.reference]);
    const relative = Math.abs(ours.loss - torch.loss) / Math.abs(torch.loss);
    results[c.name] = {
      step: ours.step,
      keys: torch.keys,
      ours: ours.loss,
      oursFromFile: ours.lossFromFile,
      pytorch: torch.loss,
      relative,
      probe: { what: c.probe, relative: torch.probeRelative, identicalFromFile: ours.probeIdentical },
      wrongLayout: { key: torch.wrongLayoutKey, loss: torch.wrongLayoutLoss, probeRelative: torch.wrongLayoutProbeRelative },
      torchVersion: torch.torch,
    };
  }
  console.log('case       step  keys  loss: ours (run)   ours (file)       pytorch           relative  | probe relative  | wrong layout: probe relative');
  for (const [name, r] of Object.entries(results)) {
    const cells = [name.padEnd(10), String(r.step).padStart(4), String(r.keys).padStart(4), '', fmt(r.ours), fmt(r.oursFromFile), fmt(r.pytorch), r.relative.toExponential(2).padEnd(8)];
    console.log(`${cells.join('  ')}  | ${r.probe.relative.toExponential(2).padEnd(14)} | ${r.wrongLayout.probeRelative.toExponential(2)} (${r.wrongLayout.key} flipped)`);
  }
  const worst = (pick) => Math.max(...Object.values(results).map(pick));
  const summary = {
    max_relative: worst((r) => r.relative),
    max_probe_relative: worst((r) => r.probe.relative),
    file_round_trip_identical: Object.values(results).every((r) => r.ours === r.oursFromFile && r.probe.identicalFromFile),
    min_wrong_layout_probe_relative: -worst((r) => -r.wrongLayout.probeRelative),
  };
  console.log(JSON.stringify({ cases: results, ...summary }));
  const failed = summary.max_relative > TOLERANCE || summary.max_probe_relative > TOLERANCE || !summary.file_round_trip_identical || summary.min_wrong_layout_probe_relative <= 100 * TOLERANCE;
  if (failed) process.exitCode = 1;
}

function fmt(x) {
  return x.toPrecision(10).padEnd(16);
}

function lastLine(text) {
  return text.trim().split('\n').at(-1);
}

function json(command, argv) {
  const out = execFileSync(command, argv, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, OPENBLAS_NUM_THREADS: '1' } });
  const result = JSON.parse(lastLine(out));
  if (result.error) throw new Error(`${path.basename(argv.find((a) => /\.(ts|py)$/.test(a)) ?? command)}: ${result.error}`);
  return result;
}
