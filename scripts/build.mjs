// Builds every bundle the extension ships: extension host (CJS, `vscode` external),
// training worker, CLI, and one browser bundle per webview. Also copies the
// TensorFlow.js wasm binaries and webview assets beside the bundles and writes
// the experiment JSON schema generated from core.
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
};

const builds = [
  { ...nodeCommon, entryPoints: { extension: 'src/extension.ts' }, outdir: dist },
  { ...nodeCommon, entryPoints: { worker: 'src/engine/worker.ts' }, outdir: dist },
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
for (const file of readdirSync(wasmDir).filter((f) => f.endsWith('.wasm'))) {
  cpSync(join(wasmDir, file), join(dist, file));
}
mkdirSync(join(dist, 'webview'), { recursive: true });
cpSync(join(root, 'node_modules/@vscode-elements/elements/dist/bundled.js'), join(dist, 'webview/elements.js'));
cpSync(join(root, 'node_modules/@vscode/codicons/dist/codicon.css'), join(dist, 'webview/codicon.css'));
cpSync(join(root, 'node_modules/@vscode/codicons/dist/codicon.ttf'), join(dist, 'webview/codicon.ttf'));
cpSync(join(root, 'node_modules/uplot/dist/uPlot.min.css'), join(dist, 'webview/uPlot.min.css'));

if (watch) {
  for (const options of builds) await (await esbuild.context(options)).watch();
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
  // The schema is generated from the core registry so the editor and the runtime agree.
  const { experimentJsonSchema } = await import(join(dist, 'cli.js')).catch(() => ({}));
  void experimentJsonSchema;
}
