// Footprint: does training leak tensors or memory, how large is the VSIX, how long does the
// extension take to activate?
//   leak        trains through src/core/train.ts (the loop the worker runs) in this process and
//               samples tf.memory().numTensors / numBytes and process RSS every --every steps:
//               the default experiment (examples/retrieval-mha-quick) for --steps steps, one
//               posterior and one relational template for --short-steps steps each. Exits 1 if
//               numTensors after the first sample ever exceeds that first sample.
//   vsix        size of dist-vsix/model-lab.vsix (built with `npm run package` unless --no-package)
//               and its largest entries.
//   activation  require() + activate() of dist/extension.js in Node against a minimal fake
//               `vscode` module (see fakeVscode below for what that does and does not include).
// Prints tables and, last, one JSON line with every number.
//
//   npm run bench:footprint                (builds dist/ and the VSIX first)
//   node bench/footprint.mjs [--steps 10000] [--short-steps 1000] [--every 250] [--batch 16]
//                            [--backend auto|node|wasm|cpu] [--no-package] [--only leak,vsix,activation]
import * as esbuild from 'esbuild';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '10000' },
    'short-steps': { type: 'string', default: '1000' },
    every: { type: 'string', default: '250' },
    batch: { type: 'string', default: '64' },
    'short-batch': { type: 'string', default: '8' },
    backend: { type: 'string', default: 'auto' },
    'no-package': { type: 'boolean', default: false },
    only: { type: 'string', default: 'leak,vsix,activation' },
  },
});
const ONLY = new Set(args.only.split(','));
const EVERY = Number(args.every);
const require = createRequire(import.meta.url);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'model-lab-footprint-'));
let exitCode = 0;
try {
  const summary = { bench: 'footprint', cpus: os.cpus().length };
  if (ONLY.has('leak')) {
    summary.leak = await leakCheck();
    exitCode = summary.leak.every((r) => r.tensorsSteady) ? 0 : 1;
  }
  if (ONLY.has('vsix')) summary.vsix = vsixSize();
  if (ONLY.has('activation')) summary.activation = await activationTime();
  summary.ok = exitCode === 0;
  console.log(JSON.stringify(summary));
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(exitCode);

// ---------------------------------------------------------------------------------- leak check

async function leakCheck() {
  const core = await bundleCore();
  const backend = await core.selectBackend(args.backend, { wasmDir: path.join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist') });
  if (backend.kernelReason) console.log(`Model Lab kernels not (all) in use: ${backend.kernelReason}`);
  const runs = [
    { file: 'examples/retrieval-mha-quick.lab.json', steps: Number(args.steps), batch: Number(args.batch) },
    { file: 'templates/posterior-linear-regression.lab.json', steps: Number(args['short-steps']), batch: Number(args['short-batch']) },
    { file: 'templates/relational-same-diff-corelnet.lab.json', steps: Number(args['short-steps']), batch: Number(args['short-batch']) },
  ];
  const results = [];
  for (const run of runs) {
    const result = await trainAndSample(core, run);
    results.push({ backend: backend.name, ...result });
    printLeakRow(result, results.length === 1);
  }
  const bad = results.filter((r) => !r.tensorsSteady);
  if (bad.length) console.error(`TENSOR LEAK: numTensors grew in ${bad.map((r) => r.experiment).join(', ')}`);
  return results;
}

/** Trains `file` with `steps` and `batch` (evaluation and checkpoints at the template's rhythm), sampling every EVERY steps. */
async function trainAndSample(core, { file, steps, batch }) {
  const template = JSON.parse(fs.readFileSync(path.join(root, file), 'utf8'));
  const text = JSON.stringify({ ...template, training: { ...template.training, steps, batchSize: batch, logEvery: EVERY } });
  const { spec, problems } = core.parseSpec(text, file);
  if (!spec) throw new Error(`${file}: the benchmark spec is invalid: ${JSON.stringify(problems)}`);

  const samples = [];
  const sample = (step) => {
    const memory = core.tf.memory();
    samples.push({ step, numTensors: memory.numTensors, numBytes: memory.numBytes, rssBytes: process.memoryUsage().rss });
  };
  const before = core.tf.memory().numTensors;
  const started = performance.now();
  // Sampled when the loop reports (every EVERY steps, after the loss read-out), so every
  // sample sees the loop in the same phase.
  await core.train({ spec, sink: checkpointReadingSink(), shouldStop: () => false, onProgress: (step) => sample(step) });
  const seconds = (performance.now() - started) / 1000;
  const after = core.tf.memory().numTensors;

  const first = samples[0];
  const last = samples[samples.length - 1];
  const maxOf = (key) => Math.max(...samples.map((s) => s[key]));
  // Per 1000 steps, by least squares over the samples after the first (which includes warm-up).
  const slope = (key) => round(leastSquaresSlope(samples.slice(1).map((s) => [s.step, s[key]])) * 1000);
  return {
    experiment: template.name,
    steps,
    batch,
    seconds: round(seconds),
    msPerStep: round((seconds * 1000) / steps),
    samples: samples.length,
    numTensors: { first: first.numTensors, last: last.numTensors, max: maxOf('numTensors'), slopePer1kSteps: slope('numTensors') },
    numBytes: { first: first.numBytes, last: last.numBytes, max: maxOf('numBytes'), slopePer1kSteps: slope('numBytes') },
    rssMB: { first: mb(first.rssBytes), last: mb(last.rssBytes), max: mb(maxOf('rssBytes')), slopePer1kSteps: round(slope('rssBytes') / 2 ** 20) },
    tensorsBefore: before,
    tensorsAfter: after,
    // Steady: no sample holds more tensors than the first, and training hands back every tensor it made.
    tensorsSteady: maxOf('numTensors') <= first.numTensors && after <= before,
  };
}

/** A sink that reads every checkpoint tensor as the on-disk store does, and keeps nothing. */
function checkpointReadingSink() {
  return {
    appendMetrics() {},
    heartbeat() {},
    rewindTo() {},
    async saveCheckpoint(checkpoint) {
      for (const { tensor } of [...checkpoint.weights, ...checkpoint.optimizer]) await tensor.data();
    },
  };
}

async function bundleCore() {
  const outfile = path.join(tmp, 'core.js');
  await esbuild.build({
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'warning',
    mainFields: ['module', 'main'],
    external: ['@tensorflow/tfjs-node'],
    stdin: {
      contents: [
        "import './src/core/labs';",
        "export * as tf from '@tensorflow/tfjs';",
        "export { train } from './src/core/train';",
        "export { parseSpec } from './src/core/spec/validate';",
        "export { selectBackend } from './src/engine/backend';",
      ].join('\n'),
      resolveDir: root,
      loader: 'ts',
    },
    outfile,
  });
  // The bundle looks for Model Lab's wasm kernels beside itself, as dist/worker.js does.
  const dist = path.join(root, 'dist');
  for (const kernel of fs.readdirSync(dist).filter((f) => f.endsWith('.wasm') && !f.startsWith('tfjs-backend-wasm'))) {
    fs.copyFileSync(path.join(dist, kernel), path.join(tmp, kernel));
  }
  return require(outfile);
}

function printLeakRow(r, header) {
  if (header) {
    console.log(`Tensor and memory footprint while training (sampled every ${EVERY} steps; slope per 1000 steps after the first sample)`);
    console.log(['experiment', 'steps', 'batch', 'ms/step', 'tensors first/last/max', 'slope', 'MB tensors first/last/max', 'RSS MB first/last/max', 'slope MB', 'steady'].join(' | '));
  }
  const t = r.numTensors;
  const b = r.numBytes;
  console.log(
    [
      r.experiment,
      r.steps,
      r.batch,
      r.msPerStep,
      `${t.first}/${t.last}/${t.max}`,
      t.slopePer1kSteps,
      `${mb(b.first)}/${mb(b.last)}/${mb(b.max)}`,
      `${r.rssMB.first}/${r.rssMB.last}/${r.rssMB.max}`,
      r.rssMB.slopePer1kSteps,
      r.tensorsSteady ? 'yes' : 'NO (leak)',
    ].join(' | '),
  );
}

function leastSquaresSlope(points) {
  if (points.length < 2) return 0;
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

// ---------------------------------------------------------------------------------- VSIX size

function vsixSize() {
  const vsix = path.join(root, 'dist-vsix/model-lab.vsix');
  if (!args['no-package']) execFileSync('npm', ['run', 'package'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (!fs.existsSync(vsix)) throw new Error(`${vsix} does not exist: run npm run package (or drop --no-package).`);
  const bytes = fs.statSync(vsix).size;
  const entries = zipEntries(vsix).sort((a, b) => b.compressed - a.compressed);
  const largest = entries.slice(0, 10);
  console.log(`VSIX ${path.relative(root, vsix)}: ${bytes} bytes (${mb(bytes)} MB), ${entries.length} entries; largest (compressed / uncompressed bytes):`);
  for (const e of largest) console.log(`  ${String(e.compressed).padStart(9)}  ${String(e.size).padStart(9)}  ${e.name}`);
  return { bytes, entries: entries.length, uncompressedBytes: entries.reduce((s, e) => s + e.size, 0), largest };
}

/** Names and sizes from the zip central directory (no zip library needed for a listing). */
function zipEntries(file) {
  const buf = fs.readFileSync(file);
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error(`${file} is not a zip file (no end-of-central-directory record).`);
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  const entries = [];
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(at) !== 0x02014b50) throw new Error(`${file}: bad central directory entry ${i}.`);
    const compressed = buf.readUInt32LE(at + 20);
    const size = buf.readUInt32LE(at + 24);
    const nameLength = buf.readUInt16LE(at + 28);
    const extraLength = buf.readUInt16LE(at + 30);
    const commentLength = buf.readUInt16LE(at + 32);
    entries.push({ name: buf.toString('utf8', at + 46, at + 46 + nameLength), compressed, size });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

// ---------------------------------------------------------------------------------- activation

async function activationTime() {
  const script = path.join(tmp, 'activate.cjs');
  fs.writeFileSync(script, `(${activateInChild.toString()})(${JSON.stringify(path.join(root, 'dist/extension.js'))}, ${JSON.stringify(tmp)});`);
  // Five fresh processes: require() cost depends on a cold module cache.
  const runs = [];
  for (let i = 0; i < 5; i++) runs.push(JSON.parse(execFileSync(process.execPath, [script], { encoding: 'utf8' }).trim().split('\n').pop()));
  const median = (key) => round(runs.map((r) => r[key]).sort((a, b) => a - b)[Math.floor(runs.length / 2)]);
  const result = { requireMs: median('requireMs'), activateMs: median('activateMs'), totalMs: median('totalMs'), runs: runs.length, bundleBytes: fs.statSync(path.join(root, 'dist/extension.js')).size };
  console.log(`Activation of dist/extension.js against a fake vscode module (median of ${runs.length} fresh processes): require ${result.requireMs} ms + activate ${result.activateMs} ms = ${result.totalMs} ms`);
  return result;
}

/**
 * Runs in a child process. The fake `vscode` answers every property with a callable, constructible
 * proxy, so activate() runs its own code (registering commands, views, providers, creating the
 * Engine client and its worker) without a real editor; it does not include VS Code's own
 * extension-host start, loading the manifest, or rendering any view.
 */
function activateInChild(extensionFile, storageDir) {
  const Module = require('node:module');
  const disposable = { dispose() {} };
  const make = (name) => {
    const assigned = new Map();
    return new Proxy(function () {}, {
      set(_, key, value) {
        assigned.set(key, value);
        return true;
      },
      get(_, key) {
        if (assigned.has(key)) return assigned.get(key);
        if (key === 'then') return undefined;
        if (key === Symbol.toPrimitive) return () => name;
        if (key === 'dispose') return () => {};
        if (key === 'fsPath' || key === 'path') return storageDir;
        if (key === 'event') return () => disposable;
        return make(`${name}.${String(key)}`);
      },
      apply: () => make(`${name}()`),
      construct: () => make(`new ${name}`),
    });
  };
  // esbuild's ESM interop copies the module's own keys, so the fake lists every name the bundle uses.
  const source = require('node:fs').readFileSync(extensionFile, 'utf8');
  const names = new Set([...source.matchAll(/\bvscode[0-9]*\.([A-Za-z_]+)/g)].map((m) => m[1]));
  const vscode = Object.fromEntries([...names].map((name) => [name, make(`vscode.${name}`)]));
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request, ...rest) {
    return request === 'vscode' ? 'vscode' : resolve.call(this, request, ...rest);
  };
  require.cache.vscode = { id: 'vscode', filename: 'vscode', loaded: true, exports: vscode };
  const t0 = performance.now();
  const extension = require(extensionFile);
  const t1 = performance.now();
  // The parts of ExtensionContext the extension reads as plain values; the rest is the fake.
  const extensionPath = require('node:path').dirname(require('node:path').dirname(extensionFile));
  const context = make('context');
  context.extensionPath = extensionPath;
  context.extensionUri = { fsPath: extensionPath, path: extensionPath, scheme: 'file' };
  context.subscriptions = [];
  Promise.resolve(extension.activate(context)).then(() => {
    const t2 = performance.now();
    console.log(JSON.stringify({ requireMs: t1 - t0, activateMs: t2 - t1, totalMs: t2 - t0 }));
    process.exit(0);
  });
}

function mb(bytes) {
  return round(bytes / 2 ** 20);
}

function round(value) {
  return Math.round(value * 100) / 100;
}
