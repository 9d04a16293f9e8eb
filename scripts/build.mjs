// Builds every bundle the extension ships: extension host (CJS, `vscode` external),
// training worker, CLI, and one browser bundle per webview. Also copies the
// TensorFlow.js wasm binaries and webview assets beside the bundles, writes
// the experiment JSON schema generated from core, and puts Model Lab's wasm
// kernels into dist/ (scripts/kernels.mjs).
import * as esbuild from 'esbuild';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installKernels } from './kernels.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const watch = process.argv.includes('--watch');
mkdirSync(dist, { recursive: true });

const nodeCommon = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  // tfjs probes for tfjs-node at runtime through our own resolver, never via a static import.
  external: ['vscode', '@tensorflow/tfjs-node'],
  // jsonc-parser's UMD entry hides its requires from the bundler; its ESM entry bundles cleanly.
  mainFields: ['module', 'main'],
};

const builds = [
  { ...nodeCommon, entryPoints: { extension: 'src/extension.ts' }, outdir: dist },
  { ...nodeCommon, entryPoints: { worker: 'src/engine/worker.ts' }, outdir: dist },
  { ...nodeCommon, entryPoints: { gradientWorker: 'src/engine/gradientWorker.ts' }, outdir: dist },
  { ...nodeCommon, entryPoints: { sweepExpansion: 'src/engine/sweepExpansionWorker.ts' }, outdir: dist },
  { ...nodeCommon, entryPoints: { cli: 'src/cli.ts' }, outdir: dist, banner: { js: '#!/usr/bin/env node' } },
  {
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'esm',
    sourcemap: true,
    logLevel: 'warning',
    entryPoints: Object.fromEntries(
      readdirSync(join(root, 'webview'))
        .filter((name) => name !== 'common')
        .map((name) => [name, `webview/${name}/main.ts`]),
    ),
    outdir: join(dist, 'webview'),
    loader: { '.css': 'css' },
  },
];

const wasmDir = join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
// The threaded build cannot start its pthread workers under Node's worker_threads: not shipped.
for (const file of readdirSync(wasmDir).filter((f) => f.endsWith('.wasm') && !f.includes('threaded'))) {
  cpSync(join(wasmDir, file), join(dist, file));
}
mkdirSync(join(dist, 'webview'), { recursive: true });
cpSync(join(root, 'node_modules/@vscode-elements/elements/dist/bundled.js'), join(dist, 'webview/elements.js'));
cpSync(join(root, 'node_modules/@vscode/codicons/dist/codicon.css'), join(dist, 'webview/codicon.css'));
cpSync(join(root, 'node_modules/@vscode/codicons/dist/codicon.ttf'), join(dist, 'webview/codicon.ttf'));
cpSync(join(root, 'node_modules/uplot/dist/uPlot.min.css'), join(dist, 'webview/uPlot.min.css'));

/**
 * dist/experiment.schema.json, generated from the core registry so editor and runtime agree, and
 * dist/experiment.editor.schema.json, the copy VS Code uses for completion and hover only.
 */
async function writeSchema() {
  const temp = mkdtempSync(join(tmpdir(), 'model-lab-schema-'));
  try {
    const script = join(temp, 'write-schema.js');
    await esbuild.build({ ...nodeCommon, sourcemap: false, entryPoints: ['scripts/write-schema.ts'], outfile: script });
    execFileSync(process.execPath, [script, join(dist, 'experiment.schema.json'), join(dist, 'experiment.editor.schema.json')], { stdio: 'inherit' });
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

try {
  if (watch) {
    for (const options of builds) await (await esbuild.context(options)).watch();
  } else {
    await Promise.all(builds.map((options) => esbuild.build(options)));
  }
  await writeSchema();
  // Model Lab's wasm kernels: compiled when the pinned clang is installed, else the committed ones.
  console.log(`build: ${installKernels(dist)}`);
} catch (error) {
  // esbuild has already printed the located errors.
  console.error(`build failed: ${error.message.split('\n')[0]}`);
  process.exit(1);
}
