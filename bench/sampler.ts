// The sampler lab's benchmark (issue 23): on 25GMM, modes covered against iterations and CPU time
// for trajectory balance (TB), TB + exploration and TB + exploration + local search, over seeds;
// at the end of each run, from 2,000 fresh samples of its last weights: Delta log Z (ELBO and
// importance-weighted), ESS, modes covered and the exact W2 to 2,000 exact samples (optimal
// transport), each with its spread over seeds, beside the paper's figures
// (docs/research/diffusion-samplers.md). Funnel and Manywell with the best method at a reduced budget.
//
// Every run trains in this process, one after another (the machine is shared: one core's worth),
// until its CPU budget (process.cpuUsage, user + system) is spent; the templates' settings unless
// --set overrides them (dotted paths into the experiment file, JSON values).
//
//   nice -n 10 node --import tsx bench/sampler.ts [--methods tb,tb-expl,tb-expl-ls] [--seeds 0,1,2]
//       [--cpu-minutes 20] [--eval-every 500] [--set objective.exploration=0.5 ...]
//       [--others funnel,manywell --others-cpu-minutes 5] [--out results.json]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { MetricRecord } from '../src/protocol';
import { buildExperiment } from '../src/core/experiment';
import { restoreWeights } from '../src/core/optimizers';
import { createRng } from '../src/core/rng';
import type { Checkpoint, RunSink } from '../src/core/sink';
import { finalEvaluation } from '../src/core/sampler/objectives';
import { DiffusionSampler } from '../src/core/sampler/sampler';
import { isSamplerTask } from '../src/core/sampler/targets';
import { specFromText } from '../src/core/spec/validate';
import { train } from '../src/core/train';

const root = path.join(__dirname, '..');
const { values: args } = parseArgs({
  options: {
    methods: { type: 'string', default: 'tb,tb-expl,tb-expl-ls' },
    seeds: { type: 'string', default: '0,1,2' },
    'cpu-minutes': { type: 'string', default: '20' },
    'eval-every': { type: 'string', default: '500' },
    set: { type: 'string', multiple: true, default: [] },
    others: { type: 'string', default: '' },
    'others-cpu-minutes': { type: 'string', default: '5' },
    'final-samples': { type: 'string', default: '2000' },
    out: { type: 'string' },
  },
});

/** The 25GMM methods: their template, and the paper's figures at 25k iterations (T = 100, batch 300) where the issue gives them. */
const METHODS: Record<string, { template: string; label: string; paper: string }> = {
  tb: { template: 'sampler-gmm25-tb', label: 'TB', paper: '(not in the notes)' },
  'tb-expl': { template: 'sampler-gmm25-tb-exploration', label: 'TB + exploration', paper: '(not in the notes)' },
  'tb-expl-ls': { template: 'sampler-gmm25-tb-exploration-local-search', label: 'TB + exploration + local search', paper: 'Delta log Z about 0.17, IW about 0.004' },
};
/** Funnel and Manywell: their TB + exploration template with local search switched on (the best method on 25GMM). */
const OTHERS: Record<string, string> = { funnel: 'sampler-funnel-tb-exploration', manywell: 'sampler-manywell-tb-exploration' };

const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
};

/** Sets `value` at a dotted path of the experiment object (e.g. objective.exploration). */
function setPath(object: Record<string, unknown>, dotted: string, value: unknown) {
  const keys = dotted.split('.');
  let at = object;
  for (const key of keys.slice(0, -1)) at = (at[key] ??= {}) as Record<string, unknown>;
  at[keys[keys.length - 1]] = value;
}

function parseOverride(text: string): [string, unknown] {
  const eq = text.indexOf('=');
  if (eq < 1) throw new Error(`--set ${text}: expected path=value, e.g. objective.exploration=0.5`);
  const raw = text.slice(eq + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // a bare word stays a string
  }
  return [text.slice(0, eq), value];
}

/**
 * Keeps the records (each with the CPU seconds of the run so far) and the last checkpoint, and
 * estimates the CPU spent evaluating: an evaluation step's CPU (from the previous step's heartbeat
 * to its records) less the mean CPU of the steps without one.
 */
class BenchSink implements RunSink {
  records: Array<MetricRecord & { cpu: number }> = [];
  last?: Checkpoint;
  evaluationCpu = 0;
  private lastBeat = 0;
  private plainSteps = { count: 0, cpu: 0 };
  private evaluated = false;
  constructor(private readonly started: NodeJS.CpuUsage) {}
  appendMetrics(records: MetricRecord[]) {
    const cpu = cpuSeconds(this.started);
    for (const r of records) this.records.push({ ...r, cpu });
    if (records.some((r) => 'eval/train/log-z-elbo' in r.values)) {
      this.evaluated = true;
      this.evaluationCpu += cpu - this.lastBeat - (this.plainSteps.count ? this.plainSteps.cpu / this.plainSteps.count : 0);
    }
  }
  heartbeat() {
    const cpu = cpuSeconds(this.started);
    if (!this.evaluated) {
      this.plainSteps.count += 1;
      this.plainSteps.cpu += cpu - this.lastBeat;
    }
    this.evaluated = false;
    this.lastBeat = cpu;
  }
  rewindTo() {}
  async saveCheckpoint(checkpoint: Checkpoint) {
    const copy = (list: Checkpoint['weights']) => list.map(({ name, tensor }) => ({ name, tensor: tf.clone(tensor) }));
    if (this.last) tf.dispose([...this.last.weights, ...this.last.optimizer].map((w) => w.tensor));
    this.last = { step: checkpoint.step, weights: copy(checkpoint.weights), optimizer: copy(checkpoint.optimizer) };
  }
}

interface RunResult {
  id: string;
  seed: number;
  steps: number;
  cpuSeconds: number;
  /** Wall seconds of training (on a shared machine: CPU seconds are the measure). */
  wallSeconds: number;
  /** Per evaluation: step, CPU seconds so far, modes covered, ELBO, IW log Z, ESS. */
  curve: Array<{ step: number; cpu: number; modes?: number; elbo: number; iw: number; ess: number }>;
  final: Record<string, number>;
  finalCpuSeconds: number;
  /** Estimated CPU seconds of the evaluations during training. */
  evaluationCpuSeconds: number;
}

async function runOne(id: string, template: string, seed: number, cpuBudget: number, overrides: Array<[string, unknown]>): Promise<RunResult> {
  const experiment = JSON.parse(fs.readFileSync(path.join(root, 'templates', `${template}.lab.json`), 'utf8'));
  experiment.seed = seed;
  setPath(experiment, 'training.steps', 1_000_000);
  setPath(experiment, 'training.evalEvery', Number(args['eval-every']));
  setPath(experiment, 'training.checkpointEvery', 1_000_000);
  for (const [key, value] of overrides) setPath(experiment, key, value);
  const spec = specFromText(JSON.stringify(experiment), `${template}.lab.json`);
  const started = process.cpuUsage();
  const wallStarted = Date.now();
  const sink = new BenchSink(started);
  const onProgress = (step: number, records: MetricRecord[]) => {
    const evaluation = records.find((r) => 'eval/train/log-z-elbo' in r.values)?.values;
    if (evaluation) console.error(`${id} seed ${seed} step ${step} cpu ${cpuSeconds(started).toFixed(0)} s: modes ${evaluation['eval/train/modes-covered'] ?? '-'}, ELBO ${evaluation['eval/train/log-z-elbo'].toFixed(2)}, IW ${evaluation['eval/train/log-z-iw'].toFixed(2)}`);
  };
  const result = await train({ spec, sink, onProgress, shouldStop: () => cpuSeconds(started) >= cpuBudget });
  const trainCpu = cpuSeconds(started);
  const wallSeconds = (Date.now() - wallStarted) / 1000;
  const curve = sink.records
    .filter((r) => 'eval/train/log-z-elbo' in r.values)
    .map((r) => ({ step: r.step, cpu: r.cpu, modes: r.values['eval/train/modes-covered'], elbo: r.values['eval/train/log-z-elbo'], iw: r.values['eval/train/log-z-iw'], ess: r.values['eval/train/ess'] }));
  // The end of the run: 2,000 fresh samples of the last weights (the checkpoint written when the budget stopped it).
  const built = buildExperiment(spec);
  if (!(built.model instanceof DiffusionSampler) || !isSamplerTask(built.task)) throw new Error(`${template}: not a sampler experiment`);
  restoreWeights(built.model.parameters, sink.last!.weights);
  const finalStarted = process.cpuUsage();
  const final = finalEvaluation(built.model, built.task.target, Number(args['final-samples']), createRng(seed, 'bench-final'));
  const finalCpuSeconds = cpuSeconds(finalStarted);
  tf.dispose(built.model.parameters.map((p) => p.variable));
  tf.dispose([...sink.last!.weights, ...sink.last!.optimizer].map((w) => w.tensor));
  const run = { id, seed, steps: result.step, cpuSeconds: trainCpu, wallSeconds, curve, final, finalCpuSeconds, evaluationCpuSeconds: sink.evaluationCpu };
  console.log(JSON.stringify({ id, seed, steps: run.steps, cpuSeconds: Math.round(trainCpu), wallSeconds: Math.round(wallSeconds), evaluationCpuSeconds: Math.round(sink.evaluationCpu), modes: curve.map((c) => c.modes), final, finalCpuSeconds: +finalCpuSeconds.toFixed(2) }));
  return run;
}

const meanSpread = (values: number[]) => {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return 'n/a';
  const mean = finite.reduce((a, b) => a + b, 0) / finite.length;
  const sd = Math.sqrt(finite.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, finite.length - 1));
  const digits = Math.abs(mean) >= 10 ? 1 : Math.abs(mean) >= 1 ? 2 : 3;
  return finite.length > 1 ? `${mean.toFixed(digits)} ± ${sd.toFixed(digits)}` : mean.toFixed(digits);
};

function summary(label: string, paper: string, runs: RunResult[]): string {
  const col = (key: string) => meanSpread(runs.map((r) => r.final[key]));
  return `| ${label} | ${runs.length} | ${meanSpread(runs.map((r) => r.steps))} | ${meanSpread(runs.map((r) => r.cpuSeconds / 60))} | ${meanSpread(runs.map((r) => r.wallSeconds / 60))} | ${col('modes-covered')} | ${col('delta-log-z-elbo')} | ${col('delta-log-z-iw')} | ${col('w2')} | ${col('ess')} | ${paper} |`;
}

async function main() {
  setWasmPaths(path.join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist/'));
  tf.env().set('IS_TEST', true);
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend failed to initialise');
  console.log(`load average at the start: ${os.loadavg().map((v) => v.toFixed(1)).join(' ')}; settings: ${JSON.stringify(args)}`);
  const overrides = (args.set ?? []).map(parseOverride);
  const seeds = args.seeds.split(',').map(Number);
  const results: Record<string, RunResult[]> = {};
  const rows: string[] = [];
  for (const id of args.methods.split(',').filter(Boolean)) {
    const method = METHODS[id];
    if (!method) throw new Error(`--methods: unknown '${id}' (known: ${Object.keys(METHODS).join(', ')})`);
    results[id] = [];
    for (const seed of seeds) results[id].push(await runOne(id, method.template, seed, Number(args['cpu-minutes']) * 60, overrides));
    rows.push(summary(method.label, method.paper, results[id]));
  }
  for (const id of args.others.split(',').filter(Boolean)) {
    const template = OTHERS[id];
    if (!template) throw new Error(`--others: unknown '${id}' (known: ${Object.keys(OTHERS).join(', ')})`);
    results[id] = [await runOne(id, template, seeds[0], Number(args['others-cpu-minutes']) * 60, [['objective.localSearch', true], ...overrides])];
    rows.push(summary(`${id} (TB + exploration + local search)`, '', results[id]));
  }
  console.log('\n| method | seeds | steps | CPU minutes | wall minutes | modes covered | Delta log Z (ELBO) | Delta log Z (IW) | W2 | ESS | paper (25k iterations) |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
  console.log('\nModes covered against iterations and CPU minutes (each seed; CPU minutes averaged over seeds):');
  for (const [id, runs] of Object.entries(results)) {
    const steps = [...new Set(runs.flatMap((r) => r.curve.map((c) => c.step)))].sort((a, b) => a - b);
    const cells = steps.map((step) => {
      const points = runs.map((r) => r.curve.find((c) => c.step === step));
      const cpu = points.filter((p) => p).map((p) => p!.cpu / 60);
      return `${step} (${(cpu.reduce((a, b) => a + b, 0) / cpu.length).toFixed(1)} min): ${points.map((p) => p?.modes ?? '-').join('/')}`;
    });
    console.log(`${id}: ${cells.join('; ')}`);
  }
  const evaluationShare = Object.values(results).flat().map((r) => r.evaluationCpuSeconds / r.cpuSeconds);
  console.log(`\nevaluation during training: ${meanSpread(evaluationShare.map((v) => 100 * v))} % of a run's CPU; the final evaluation (2,000 samples + exact W2): ${meanSpread(Object.values(results).flat().map((r) => r.finalCpuSeconds))} CPU s, of which W2 ${meanSpread(Object.values(results).flat().map((r) => r.final['w2-seconds']))} s wall`);
  console.log(`\nload average at the end: ${os.loadavg().map((v) => v.toFixed(1)).join(' ')}`);
  if (args.out) fs.writeFileSync(args.out, JSON.stringify({ args, results }, null, 2));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
