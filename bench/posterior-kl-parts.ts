// Where the symmetric KL of a trained Gaussian-family posterior run (GM or LR) comes from: per
// simulated data set, the mean part (what moving q's mean onto the exact mean removes) and the
// variance part (the rest), overall and by context size: which one the training has to fix.
//   npm run build && node --import tsx bench/posterior-kl-parts.ts <run-dir> [--data-sets 1024]
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { buildExperiment } from '../src/core/experiment';
import { restoreWeights } from '../src/core/optimizers';
import { createRng } from '../src/core/rng';
import { networkInputs } from '../src/core/posterior/dataSets';
import { AmortizedPosteriorModel } from '../src/core/posterior/model';
import { splitCondition } from '../src/core/posterior/families';
import { isPosteriorTask } from '../src/core/posterior/tasks';
import { symmetricKlDiagonal } from '../src/core/posterior/exact';
import { checkpointSource } from '../src/runs/checkpointSource';
import { readSpec } from '../src/runs/reader';
import { selectBackend } from '../src/engine/backend';

async function klParts(runDir: string, dataSets: number, seed = 123) {
  const spec = readSpec(runDir);
  const checkpoints = checkpointSource(runDir);
  const experiment = buildExperiment(spec);
  const { task, model } = experiment;
  if (!isPosteriorTask(task) || !(model instanceof AmortizedPosteriorModel) || !task.exactPosterior) throw new Error('not a posterior run with an exact posterior');
  const steps = checkpoints.steps();
  const checkpoint = await checkpoints.load(steps[steps.length - 1]);
  restoreWeights(model.parameters, checkpoint.weights);
  const rng = createRng(seed, 'kl-parts');
  const rows: { n: number; total: number; meanPart: number; variancePart: number; logVarianceRatio: number[] }[] = [];
  const dim = task.model.thetaDim;
  for (let done = 0; done < dataSets; done += 64) {
    const batch = task.batch(64, 'train', rng);
    const sets = batch.posterior.context;
    const { mean, variance } = tf.tidy(() => {
      const condition = model.forward(networkInputs(task.model, sets)).output;
      const split = splitCondition(condition, dim);
      return { mean: tf.squeeze(split.mean, [1]).arraySync() as number[][], variance: tf.exp(tf.squeeze(split.logVariance, [1])).arraySync() as number[][] };
    });
    for (let b = 0; b < 64; b++) {
      const exact = task.exactPosterior(sets, b);
      const total = symmetricKlDiagonal(mean[b], variance[b], exact) / dim;
      // The same KL with q's mean moved onto the exact mean: what is left is the variance part.
      const variancePart = symmetricKlDiagonal(exact.mean, variance[b], exact) / dim;
      rows.push({
        n: sets.sizes[b], total, meanPart: total - variancePart, variancePart,
        logVarianceRatio: variance[b].map((v, i) => Math.log(v / exact.covariance[i * dim + i])),
      });
    }
  }
  return { step: steps[steps.length - 1], rows };
}

async function main(): Promise<void> {
  const { values: args, positionals } = parseArgs({ allowPositionals: true, options: { 'data-sets': { type: 'string', default: '1024' } } });
  if (positionals.length !== 1) throw new Error('usage: node --import tsx bench/posterior-kl-parts.ts <run-dir> [--data-sets N]');
  await selectBackend('wasm', { wasmDir: path.join(__dirname, '..', 'dist') });
  const { step, rows } = await klParts(positionals[0], Number(args['data-sets']));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const standardError = (xs: number[]) => {
    const centre = mean(xs);
    return Math.sqrt(mean(xs.map((x) => (x - centre) ** 2)) / xs.length);
  };
  const line = (label: string, rs: Row[]) =>
    console.log(`| ${label} | ${rs.length} | ${mean(rs.map((r) => r.total)).toFixed(3)} ± ${standardError(rs.map((r) => r.total)).toFixed(3)} | ${mean(rs.map((r) => r.meanPart)).toFixed(3)} | ${mean(rs.map((r) => r.variancePart)).toFixed(3)} | ${rs[0].logVarianceRatio.map((_, i) => mean(rs.map((r) => r.logVarianceRatio[i])).toFixed(3)).join(', ')} |`);
  console.log(`${positionals[0]} at step ${step}: symmetric KL / dim, its mean and variance parts; mean log(q variance / exact variance) per parameter`);
  console.log('| context size | data sets | sym KL / dim ± SE | mean part | variance part | log variance ratio |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  line('all', rows);
  const sizes = rows.map((r) => r.n);
  const [lo, hi] = [Math.min(...sizes), Math.max(...sizes)];
  const width = Math.ceil((hi - lo + 1) / 4);
  for (let k = 0; k < 4; k++) {
    const rs = rows.filter((r) => r.n >= lo + k * width && r.n < lo + (k + 1) * width);
    if (rs.length) line(`${lo + k * width}-${Math.min(hi, lo + (k + 1) * width - 1)}`, rs);
  }
}

type Row = Awaited<ReturnType<typeof klParts>>['rows'][number];
void main();
