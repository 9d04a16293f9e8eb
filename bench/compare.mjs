// Our training speed against a PyTorch reference of the same model, batch, initialisation and
// optimizer, measured in the same command (the machine is shared: only same-invocation ratios
// mean anything). See bench/README.md for the method and the floor estimates.
//
//   npm run bench:compare
//   node bench/compare.mjs [--steps 100] [--rounds 3] [--backends wasm[,cpu,node]]
//                          [--workloads mha,compositional,posterior,corelnet,corelnet-identity,sampler[,sampler-ls]]
//                          [--no-check] [--no-parallel] [--one-worker] [--no-install] [--baseline DIR]
//                          [--torch-default-malloc]
//
// With no flags: every workload but sampler-ls, the wasm backend only, 3 rounds, 2 concurrent runs;
// 12 minutes on the shared 2-core machine at load average 5-6 (bench/README.md; the cap is 15).
// --backends wasm,cpu,node adds the other backends (once each, a short window).
//
// --baseline DIR: also time our training built from another source tree (DIR/src, e.g. a copy
// of src/ before a change, and its kernels from DIR/dist when it has them: bench/README.md),
// alternated in the same rounds: before/after in one invocation.
// --torch-default-malloc: PyTorch with glibc's malloc as it comes, which page-faults its freed
// activations back in every step (3-6x slower steps; the reference keeps freed memory otherwise).
//
// Workloads: mha, compositional (Contextual Retrieval, bench/reference/retrieval.py), posterior
// (linear regression, posterior.py), corelnet and corelnet-identity (CoRelNet on same-diff and on
// identity rules, corelnet.py; PyTorch samples its trials from our object images, exported),
// sampler (diffusion sampler, trajectory balance with exploration on 25GMM, sampler.py; its batches
// are trajectories of its own policy, so the check replays each step's noise, not batches) and,
// only when named, sampler-ls (the same with local search: replay buffers and MALA).
//
// Per workload:
//   check     our initial weights and first 10 batches are exported; PyTorch trains on them and
//             its first 10 losses must match ours within 1e-4 (else the comparison is void); the
//             sampler also its weights after the 10 steps, and each step's noise is exported
//   ratio     one run at a fixed batch: ours (wasm) and PyTorch (1 and 2 threads, the faster
//             counts), alternated for --rounds rounds, best of each side; PyTorch at 2 threads
//             is dropped after a round where it ran under half as fast as 1 thread (it cannot
//             count, and under load it takes minutes per round)
//   both cores  the same with ours also timed with training.gradientWorkers = 2 (the batch's
//             second half in a gradient worker thread, one update from the mean gradient; opt-in
//             in the product), the faster of 1 and 2 workers counting, as PyTorch's threads do;
//             skipped with --one-worker
//   backends  ours on every other backend present (cpu, node), once, fewer steps
//   parallel  throughput of 2 concurrent runs, ours (2 processes) and PyTorch (2 x 1 thread)
//   CPU time  the same runs' CPU seconds per step (every thread of the process), ours at 1 worker
//             against PyTorch at 1 thread: "ratio CPU 1t", less moved by other jobs than wall time
// Prints a table, then one JSON line: {"workloads": {name: {"ours", "pytorch", "ratio",
// "ratio_cpu_1_thread", "ours_2_workers", "ratio_both_cores"}}, "min_ratio", "min_ratio_both_cores",
// "kernels": {"active": [ids], "off"?: {id: reason}}} (the kernels our timed runs had; with
// --baseline also "baseline_kernels").
import { bundleAgainst } from './lib/bundleAgainst.mjs';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '100' },
    warmup: { type: 'string', default: '10' },
    'log-every': { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    // The product's backend; the cpu and node backends only when named (issue 24: the default run stays under 15 minutes).
    backends: { type: 'string', default: 'wasm' },
    workloads: { type: 'string', default: 'mha,compositional,posterior,corelnet,corelnet-identity,sampler' },
    'no-check': { type: 'boolean', default: false },
    'no-parallel': { type: 'boolean', default: false },
    'one-worker': { type: 'boolean', default: false },
    'no-install': { type: 'boolean', default: false },
    baseline: { type: 'string' },
    'torch-default-malloc': { type: 'boolean', default: false },
  },
});
const STEPS = Number(args.steps);
const WARMUP = Number(args.warmup);
const LOG_EVERY = Number(args['log-every']);
const ROUNDS = Number(args.rounds);
const CHECK_STEPS = 10;
const CHECK_TOLERANCE = 1e-4;
const SAMPLER_TIMED_STEPS = 40;
const PYTHON = '/usr/bin/python3'; // Debian's, where python3-torch installs (a pyenv python3 may shadow it)
const WASM_DIR = path.join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');

// `reference`: the PyTorch script of the workload (bench/reference/); ours.ts reads task (with a
// name, else the Contextual Retrieval Task), model, objective (default L1), batchSize, learningRate.
const TASK = { seqLen: 10, searchFeatures: 2, retrievalFeatures: 4 };
const template = (name) => JSON.parse(fs.readFileSync(path.join(root, 'templates', `${name}.lab.json`), 'utf8'));
const POSTERIOR_TEMPLATE = template('posterior-linear-regression');
const WORKLOADS = {
  mha: {
    title: 'multi-head attention (H=2)',
    reference: 'retrieval.py',
    task: TASK,
    model: { name: 'multi-head-attention', dim: 64, heads: 2, concat: true },
    batchSize: 256,
    learningRate: 1e-4,
  },
  compositional: {
    title: 'compositional attention (S=2, R=4)',
    reference: 'retrieval.py',
    task: TASK,
    model: { name: 'compositional-attention', dim: 64, searches: 2, retrievals: 4, concat: true, gumbel: false, separateValueKeys: false },
    batchSize: 256,
    learningRate: 1e-4,
  },
  // The template's task, model, batch and learning rate, but forward KL (deterministic given the
  // batch, no sampling noise to match) and a constant learning rate, like the others.
  posterior: {
    title: 'posterior transformer (linear regression)',
    reference: 'posterior.py',
    task: POSTERIOR_TEMPLATE.task,
    model: POSTERIOR_TEMPLATE.model,
    objective: { name: 'forward-kl' },
    batchSize: POSTERIOR_TEMPLATE.training.batchSize,
    learningRate: POSTERIOR_TEMPLATE.training.learningRate,
  },
  corelnet: relationalWorkload('CoRelNet, same-diff (T=2)', template('relational-same-diff-corelnet')),
  'corelnet-identity': relationalWorkload('CoRelNet, identity rules (T=9)', template('relational-identity-rules-corelnet')),
  sampler: samplerWorkload('diffusion sampler, TB + exploration (25GMM, T=50)', template('sampler-gmm25-tb-exploration')),
  // Only when named (--workloads sampler-ls): its window must hold a local search (every 100
  // steps: at steps 2, 102, ...), so it times --steps (default 100), about 3 minutes more in all.
  'sampler-ls': {
    ...samplerWorkload('diffusion sampler, TB + exploration + local search (25GMM, T=50)', template('sampler-gmm25-tb-exploration-local-search')),
    maxSteps: undefined,
  },
};

/**
 * A sampler template as it is (target, sampler, objective with its exploration, batch, constant
 * Adam lr), but 100 evaluation trajectories: the loop's final evaluation is outside the timed
 * window and the check, so fewer only shortens the run. Its steps are 3-10x slower than the
 * other workloads' (T = 50 sequential passes to draw a batch, then 6,400 transitions): it times
 * SAMPLER_TIMED_STEPS steps, so that bench/compare stays within its time cap.
 */
function samplerWorkload(title, lab) {
  const { task, model, objective, training } = lab;
  if (training.learningRateSchedule && training.learningRateSchedule !== 'constant') throw new Error(`${lab.name}: expected a constant learning rate`);
  return { title, reference: 'sampler.py', task, model, objective: { ...objective, evalSamples: 100 }, batchSize: training.batchSize, learningRate: training.learningRate, maxSteps: SAMPLER_TIMED_STEPS };
}

/**
 * A relational template as it is (task, model, objective, batch 32, constant Adam lr). The
 * reference draws its trials from our object images, so it needs the exchange in `time` mode too.
 */
function relationalWorkload(title, lab) {
  const { task, model, objective, training } = lab;
  if (training.learningRateSchedule && training.learningRateSchedule !== 'constant') throw new Error(`${lab.name}: expected a constant learning rate`);
  return { title, reference: 'corelnet.py', objectsFromExchange: true, task, model, objective, batchSize: training.batchSize, learningRate: training.learningRate };
}

// OpenBLAS settings of these machines slow it down: unset for the benchmark's commands only.
const benchEnv = { ...process.env };
delete benchEnv.OPENBLAS_CORETYPE;
delete benchEnv.OPENBLAS_L2_SIZE;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'model-lab-compare-'));
try {
  await main();
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}

async function main() {
  ensurePyTorch();
  const ours = await bundleOurSide(root, 'ours');
  const baseline = args.baseline ? await bundleOurSide(path.resolve(args.baseline), 'baseline') : undefined;
  const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`load average at start: ${load()} (${os.cpus().length} cores)`);
  const results = {};
  for (const key of args.workloads.split(',')) {
    const workload = WORKLOADS[key];
    if (!workload) throw new Error(`unknown workload '${key}': expected one of ${Object.keys(WORKLOADS).join(', ')}`);
    const { present } = await runOurs(ours, { mode: 'has-model', backend: 'cpu', workload });
    if (!present) {
      console.log(`${key}: model '${workload.model.name}' is not registered, skipped`);
      continue;
    }
    results[key] = await measureWorkload(ours, key, workload, baseline);
  }
  const loadAtEnd = load();
  printTable(results);
  console.log(`load average at end: ${loadAtEnd}`);
  const summary = Object.fromEntries(
    Object.entries(results).map(([key, r]) => [
      key,
      {
        ours: round(r.ours),
        pytorch: round(r.pytorch),
        ratio: round(r.ratio, 3),
        ratio_cpu_1_thread: round(r.ratioCpu, 3),
        ...(r.ours2 !== undefined ? { ours_2_workers: round(r.ours2), ratio_both_cores: round(r.ratioBothCores, 3) } : {}),
      },
    ]),
  );
  const minimum = (values) => (values.length ? Math.min(...values) : null);
  const bothCores = Object.values(summary).filter((r) => r.ratio_both_cores !== undefined).map((r) => r.ratio_both_cores);
  const kernelsOf = (side) => Object.values(results).find((r) => r.kernels?.[side])?.kernels[side];
  console.log(`kernels: ${kernelLine(kernelsOf('ours'))}${args.baseline ? `; baseline: ${kernelLine(kernelsOf('baseline'))}` : ''}`);
  console.log(JSON.stringify({
    workloads: summary,
    min_ratio: minimum(Object.values(summary).map((r) => r.ratio)),
    ...(bothCores.length ? { min_ratio_both_cores: minimum(bothCores) } : {}),
    kernels: kernelsOf('ours'),
    ...(args.baseline ? { baseline_kernels: kernelsOf('baseline') } : {}),
  }));
}

/** "7 active: batched-matmul, ..." and each kernel that was off with why. */
function kernelLine(kernels) {
  if (!kernels) return 'unknown';
  const off = Object.entries(kernels.off ?? {}).map(([id, reason]) => `${id} OFF (${reason})`);
  return [`${kernels.active.length} active: ${kernels.active.join(', ')}`, ...off].join('; ');
}

async function measureWorkload(ours, key, workload, baseline) {
  const result = { title: workload.title, backends: {} };
  const progress = (text) => process.stderr.write(`[${key}] ${text}\n`);

  const needsExchange = !args['no-check'] || workload.objectsFromExchange;
  const exchange = needsExchange ? await exportExchange(ours, workload) : undefined;
  if (!args['no-check']) {
    progress('checking the first losses against PyTorch');
    result.check = await checkAgreement(exchange, workload);
    if (!result.check.ok) throw new Error(`${key}: PyTorch and ours disagree: ${JSON.stringify(result.check)}`);
  }

  const timing = { warmup: WARMUP, steps: timedSteps(workload), logEvery: LOG_EVERY };
  const torchData = workload.objectsFromExchange ? exchange.dir : undefined;
  const workerCounts = args['one-worker'] ? [1] : [1, 2];
  const oursRuns = { 1: [], 2: [] };
  const baselineRuns = { 1: [], 2: [] };
  const torchRuns = { 1: [], 2: [] };
  // CPU seconds per step of ours (1 worker) and PyTorch (1 thread): less moved by others' jobs than wall time.
  const cpu = { ours: [], pytorch: [] };
  result.kernels = {};
  for (let round = 1; round <= ROUNDS; round++) {
    progress(`round ${round}/${ROUNDS}`);
    for (const gradientWorkers of workerCounts) {
      const request = { mode: 'time', backend: 'wasm', workload, ...timing, gradientWorkers };
      const run = await runOurs(ours, request);
      oursRuns[gradientWorkers].push(run.stepsPerSecond);
      result.kernels.ours ??= run.kernels;
      if (gradientWorkers === 1) cpu.ours.push(run.cpuSecondsPerStep);
      if (baseline) {
        const baselineRun = await runOurs(baseline, request);
        baselineRuns[gradientWorkers].push(baselineRun.stepsPerSecond);
        result.kernels.baseline ??= baselineRun.kernels;
      }
    }
    for (const threads of [1, 2]) {
      if (threads === 2 && !twoThreadsMayCount(torchRuns)) continue;
      const run = await runTorch(workload, threads, timing, torchData);
      torchRuns[threads].push(run.stepsPerSecond);
      if (threads === 1) cpu.pytorch.push(run.cpuSecondsPerStep);
    }
  }
  const best = (runs) => (runs.length > 0 ? Math.max(...runs) : undefined);
  result.backends.wasm = best(oursRuns[1]);
  result.ours = result.backends.wasm;
  result.pytorchByThreads = { 1: best(torchRuns[1]), 2: best(torchRuns[2]) };
  result.pytorch = Math.max(result.pytorchByThreads[1], result.pytorchByThreads[2]);
  result.ratio = result.ours / result.pytorch;
  result.ours2 = best(oursRuns[2]);
  result.ratioBothCores = Math.max(result.ours, result.ours2 ?? 0) / result.pytorch;
  result.ratioCpu = Math.min(...cpu.pytorch) / Math.min(...cpu.ours);
  if (baseline) {
    result.baseline = best(baselineRuns[1]);
    result.baselineRatio = result.baseline / result.pytorch;
    result.baseline2 = best(baselineRuns[2]);
  }
  const rounded = (runs) => runs.map((v) => round(v));
  result.rounds = {
    ours: rounded(oursRuns[1]),
    ...(result.ours2 !== undefined ? { ours2Workers: rounded(oursRuns[2]) } : {}),
    ...(baseline ? { baseline: rounded(baselineRuns[1]), ...(result.baseline2 !== undefined ? { baseline2Workers: rounded(baselineRuns[2]) } : {}) } : {}),
    pytorch1: rounded(torchRuns[1]),
    pytorch2: rounded(torchRuns[2]),
    cpuMsPerStep: { ours: cpu.ours.map((s) => round(s * 1000)), pytorch1: cpu.pytorch.map((s) => round(s * 1000)) },
  };

  // Other backends: once, on a short window (the cpu backend is slow).
  for (const backend of args.backends.split(',').filter((b) => b !== 'wasm')) {
    progress(`backend ${backend}`);
    const short = { warmup: 5, steps: 10, logEvery: 5 };
    const r = await runOurs(ours, { mode: 'time', backend, workload, ...short });
    result.backends[backend] = r.absent ? null : r.stepsPerSecond;
  }

  if (!args['no-parallel']) {
    progress('2 concurrent runs');
    const two = (run) => Promise.all([run(), run()]).then((rs) => rs.reduce((sum, r) => sum + r.stepsPerSecond, 0));
    result.parallel = {
      ours: await two(() => runOurs(ours, { mode: 'time', backend: 'wasm', workload, ...timing })),
      pytorch: await two(() => runTorch(workload, 1, timing, torchData)),
    };
  }
  return result;
}

/**
 * Whether PyTorch at 2 threads is worth timing again: only the faster thread count counts, and on
 * a loaded machine 2 threads collapse (OpenMP workers spinning at every barrier: 0.9-2.6 steps/s
 * where 1 thread ran 20-90, bench/README.md), which took 14 of the 20 minutes of a no-flag run at
 * load 5-8. So after any round where 2 threads ran under half as fast as 1 thread, they are not
 * timed again; while they stay within 2x, every round times both.
 */
function twoThreadsMayCount(torchRuns) {
  if (torchRuns[2].length === 0) return true;
  return Math.max(...torchRuns[2]) >= Math.max(...torchRuns[1]) / 2;
}

/** --steps, or fewer for a workload with `maxSteps` (slow steps: the sampler), in whole loss windows. */
function timedSteps(workload) {
  const steps = Math.min(STEPS, workload.maxSteps ?? STEPS);
  return Math.max(LOG_EVERY, Math.floor(steps / LOG_EVERY) * LOG_EVERY);
}

/** Our initial weights, first batches and their losses (and a relational task's object images) in `dir`. */
async function exportExchange(ours, workload) {
  const dir = path.join(tmp, `exchange-${workload.model.name}-${workload.task.name ?? 'retrieval'}`);
  const { losses } = await runOurs(ours, { mode: 'export', backend: 'wasm', workload, batches: CHECK_STEPS, dir });
  return { dir, losses };
}

/**
 * Same initial weights and batches (a sampler: the same noise) on both sides: the first losses
 * must agree, and the weights after them where the reference compares them (`weights`).
 */
async function checkAgreement(exported, workload) {
  const reference = await runJson(PYTHON, [referenceOf(workload), 'check', '--exchange', exported.dir]);
  const differences = exported.losses.map((loss, i) => Math.abs(loss - reference.losses[i]));
  const maxDifference = Math.max(...differences);
  const weightsAgree = !reference.weights || reference.weights.maxDifference < CHECK_TOLERANCE;
  return {
    ok: maxDifference < CHECK_TOLERANCE && differences.length === CHECK_STEPS && weightsAgree,
    maxDifference,
    ours: exported.losses,
    pytorch: reference.losses,
    ...(reference.weights ? { weights: reference.weights } : {}),
  };
}

function runOurs(bundle, request) {
  return runJson(process.execPath, [bundle, JSON.stringify({ wasmDir: WASM_DIR, ...request })]);
}

/** The workload's PyTorch script (a function: main() runs before later consts are initialised). */
function referenceOf(workload) {
  return path.join(root, 'bench/reference', workload.reference);
}

/** `exchange`: the folder the reference reads its data from (corelnet's object images), if it needs one. */
function runTorch(workload, threads, { warmup, steps, logEvery }, exchange) {
  return runJson(PYTHON, [
    referenceOf(workload), 'time', '--workload', JSON.stringify(workload), '--threads', String(threads),
    '--warmup', String(warmup), '--steps', String(steps), '--log-every', String(logEvery),
    ...(exchange ? ['--exchange', exchange] : []),
    ...(args['torch-default-malloc'] ? ['--default-malloc'] : []),
  ], torchThreadsEnv(threads));
}

/**
 * torch.set_num_threads does not reach Debian's OpenBLAS (pthreads build), which runs the dense
 * products on its own pool of one thread per core: a "1 thread" run used both cores. Its pool
 * size is read when the library loads, so it is set in the child's environment.
 */
function torchThreadsEnv(threads) {
  return { ...benchEnv, OPENBLAS_NUM_THREADS: String(threads) };
}

/** Runs a command that ends its output with one JSON line; rejects with its output otherwise. */
function runJson(command, commandArgs, env = benchEnv) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, commandArgs, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      const last = out.trim().split('\n').filter((l) => l.startsWith('{')).pop();
      const parsed = last ? JSON.parse(last) : undefined;
      if (code !== 0 || !parsed || parsed.error) {
        reject(new Error(`${path.basename(commandArgs[0])} failed (exit ${code}): ${parsed?.error ?? ''}\n${err.slice(-2000)}`));
      } else resolve(parsed);
    });
  });
}

/** Debian's python3-torch with a threaded OpenBLAS; installed (as root, with apt-get) only if missing. */
function ensurePyTorch() {
  const hasTorch = () => {
    try {
      execFileSync(PYTHON, ['-c', 'import torch, numpy'], { stdio: 'ignore', env: benchEnv });
      return true;
    } catch {
      return false;
    }
  };
  const hasOpenBlas = () => {
    try {
      return execFileSync('dpkg-query', ['-W', '-f=${Status}', 'libopenblas0-pthread'], { encoding: 'utf8' }).includes('install ok installed');
    } catch {
      return false;
    }
  };
  if (hasTorch() && hasOpenBlas()) return;
  if (args['no-install'] || process.getuid?.() !== 0) {
    throw new Error('PyTorch reference missing: install Debian packages python3-torch python3-numpy libopenblas0-pthread (as root), or run this as root to install them.');
  }
  console.error('installing python3-torch python3-numpy libopenblas0-pthread with apt-get ...');
  const apt = { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } };
  execFileSync('apt-get', ['update'], apt);
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'python3-torch', 'python3-numpy', 'libopenblas0-pthread'], apt);
  if (!hasTorch()) throw new Error(`${PYTHON} still cannot import torch after installing python3-torch`);
}

/** bench/lib/ours.ts bundled against `sourceRoot`/src (this repository's, or a baseline copy). */
async function bundleOurSide(sourceRoot, name) {
  return bundleAgainst({ root, sourceRoot, entry: 'ours.ts', tmp, name });
}

function printTable(results) {
  const withBaseline = Object.values(results).some((r) => r.baseline !== undefined);
  const withWorkers = Object.values(results).some((r) => r.ours2 !== undefined);
  const rows = [[
    'workload',
    ...(withBaseline ? ['baseline wasm', 'baseline ratio', ...(withWorkers ? ['baseline 2 workers'] : [])] : []),
    'ours wasm', 'ours cpu', 'ours node', 'PyTorch 1t', 'PyTorch 2t', 'ratio', 'ratio CPU 1t',
    ...(withWorkers ? ['ours 2 workers', 'ratio both cores'] : []),
    '2 runs: ours', '2 runs: PyTorch', 'check max |dloss|',
  ]];
  const cell = (v) => (v === undefined ? '-' : v === null ? 'absent' : round(v).toString());
  for (const r of Object.values(results)) {
    rows.push([
      r.title,
      ...(withBaseline ? [cell(r.baseline), r.baselineRatio === undefined ? '-' : round(r.baselineRatio, 3).toString(), ...(withWorkers ? [cell(r.baseline2)] : [])] : []),
      cell(r.backends.wasm),
      cell(r.backends.cpu),
      cell(r.backends.node),
      cell(r.pytorchByThreads[1]),
      cell(r.pytorchByThreads[2]),
      round(r.ratio, 3).toString(),
      round(r.ratioCpu, 3).toString(),
      ...(withWorkers ? [cell(r.ours2), r.ours2 === undefined ? '-' : round(r.ratioBothCores, 3).toString()] : []),
      cell(r.parallel?.ours),
      cell(r.parallel?.pytorch),
      r.check ? r.check.maxDifference.toExponential(1) : '-',
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  console.log('\nsteps/s (higher is better); ratio = ours wasm (1 worker) / faster PyTorch; ratio CPU 1t = PyTorch 1 thread CPU time per step / ours (1 worker), the least of each side; ratio both cores = faster of ours 1 and 2 gradient workers / faster PyTorch; best of each side over the rounds');
  for (const row of rows) console.log(row.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  '));
  for (const [key, r] of Object.entries(results)) {
    console.log(`${key} rounds (steps/s): ${JSON.stringify(r.rounds)}`);
    const weights = r.check?.weights;
    if (weights) console.log(`${key} check: weights after ${CHECK_STEPS} steps, max |dw| ${weights.maxDifference.toExponential(1)} (${weights.parameter}; largest |w| ${round(weights.largestWeight, 2)})`);
  }
}

function round(value, digits = 1) {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
