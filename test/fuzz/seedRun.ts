/**
 * The run the run-folder and safetensors targets start from: a real run folder, trained for a few
 * steps by the CLI bundle (`dist/cli.js`, so `npm run build` first), with two checkpoints. Tiny
 * (width 8, 4 tokens) so that copying and reading it per case stays cheap.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

const SPEC = {
  formatVersion: 1,
  kind: 'train',
  name: 'fuzz-seed-run',
  seed: 0,
  task: { name: 'contextual-retrieval', split: 'ood', seqLen: 4 },
  model: { name: 'multi-head-attention', dim: 8, heads: 2 },
  objective: { name: 'l1' },
  training: { steps: 4, batchSize: 4, learningRate: 0.001, logEvery: 1, evalEvery: 2, evalBatches: 1, checkpointEvery: 2, keepCheckpoints: 2 },
};

/** Trains the seed run under `dir`; returns its run folder. */
export function trainSeedRun(dir: string): string {
  const cli = path.join(ROOT, 'dist', 'cli.js');
  if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first`);
  const specFile = path.join(dir, 'fuzz-seed-run.lab.json');
  fs.writeFileSync(specFile, JSON.stringify(SPEC, null, 2));
  const stdout = execFileSync(process.execPath, [cli, 'train', specFile, '--out', path.join(dir, 'runs'), '--backend', 'wasm'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const runDir = stdout.trim().split('\n').at(-1)!;
  if (!fs.existsSync(path.join(runDir, 'checkpoints'))) throw new Error(`the seed run has no checkpoints: ${runDir}`);
  return runDir;
}
