// Training speed of a posterior template on the wasm backend (issue 6): seconds per step of the
// product's step (batch, forward, loss, gradients, Adam), and a tf.profile of one step by kernel
// and input shapes. With --baseline DIR the same step built from another source tree (DIR/src,
// e.g. `git archive <commit> src | tar -x -C DIR`) is timed too, alternated in the same rounds:
// before and after in one invocation. Best round of each side counts (the machine is shared).
//
//   node bench/posterior-speed.mjs [--template posterior-linear-regression] [--steps 10] [--rounds 3] [--baseline DIR]
import { bundleAgainst } from './lib/bundleAgainst.mjs';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    template: { type: 'string', default: 'posterior-linear-regression' },
    steps: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    top: { type: 'string', default: '12' },
    baseline: { type: 'string' },
  },
});
const WASM_DIR = path.join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
const file = path.join(root, 'templates', `${args.template}.lab.json`);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'model-lab-posterior-speed-'));

async function bundle(sourceRoot, name) {
  return bundleAgainst({ root, sourceRoot, entry: 'posteriorStep.ts', tmp, name });
}

function run(bundleFile, request) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bundleFile, JSON.stringify({ file, wasmDir: WASM_DIR, ...request })], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      const last = out.trim().split('\n').filter((l) => l.startsWith('{')).pop();
      const parsed = last ? JSON.parse(last) : undefined;
      if (code !== 0 || !parsed || parsed.error) reject(new Error(`step run failed (exit ${code}): ${parsed?.error ?? ''}\n${err.slice(-2000)}`));
      else resolve(parsed);
    });
  });
}

try {
  const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`${args.template}: load average at start ${load()}`);
  const sides = { ours: await bundle(root, 'ours') };
  if (args.baseline) sides.baseline = await bundle(path.resolve(args.baseline), 'baseline');
  const timing = { warmup: Number(args.warmup), steps: Number(args.steps) };
  const rounds = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
  const losses = {};
  for (let r = 1; r <= Number(args.rounds); r++) {
    for (const [name, bundleFile] of Object.entries(sides)) {
      const result = await run(bundleFile, { ...timing, profile: false });
      rounds[name].push(result.secondsPerStep);
      losses[name] = result.losses;
      console.error(`round ${r} ${name}: ${result.secondsPerStep.toFixed(3)} s/step`);
    }
  }
  const profiled = await run(sides.ours, { ...timing, steps: 1, profile: true, top: Number(args.top) });
  const best = Object.fromEntries(Object.entries(rounds).map(([k, v]) => [k, Math.min(...v)]));
  console.log(`load average at end ${load()}`);
  console.log(`\ns/step (best of ${args.rounds} rounds of ${args.steps} steps after ${args.warmup} warm-up), wasm`);
  for (const [name, value] of Object.entries(best)) console.log(`  ${name.padEnd(9)} ${value.toFixed(3)}   rounds: ${rounds[name].map((v) => v.toFixed(3)).join(' ')}`);
  if (best.baseline) {
    console.log(`  speed-up: ${(best.baseline / best.ours).toFixed(2)}x`);
    const difference = Math.max(...losses.ours.map((l, i) => Math.abs(l - losses.baseline[i]) / Math.max(1, Math.abs(l))));
    console.log(`  same losses on the same batches: max relative difference ${difference.toExponential(1)}`);
  }
  const { profile } = profiled;
  console.log(`\nprofile of one step (ours): ${profile.kernels} kernels, ${profile.kernelMs.toFixed(1)} ms in kernels`);
  for (const [key, ms, count] of profile.byShape) console.log(`${ms.toFixed(1).padStart(8)} ms ${String(count).padStart(4)} x  ${key}`);
  console.log(JSON.stringify({ template: args.template, secondsPerStep: best, rounds, speedUp: best.baseline ? best.baseline / best.ours : undefined }));
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
