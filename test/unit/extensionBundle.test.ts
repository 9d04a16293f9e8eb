// The extension host never loads TensorFlow.js (issue 19): it lists, validates and shows runs,
// and training and inference happen in worker threads. Bundles src/extension.ts as
// scripts/build.mjs does (esbuild, with a metafile) and fails when any TensorFlow.js module is
// in it, naming the chain of imports that brought it in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as esbuild from 'esbuild';

const root = join(__dirname, '..', '..');

/** The import chain from the entry to `target` (breadth first: a shortest one). */
function chainTo(inputs: esbuild.Metafile['inputs'], entry: string, target: string): string[] {
  const previous = new Map<string, string | undefined>([[entry, undefined]]);
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const { path } of inputs[file]?.imports ?? []) {
      if (previous.has(path)) continue;
      previous.set(path, file);
      queue.push(path);
    }
  }
  const chain: string[] = [];
  for (let file: string | undefined = target; file !== undefined; file = previous.get(file)) chain.unshift(file);
  return chain;
}

test('dist/extension.js bundles no TensorFlow.js', async () => {
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: ['src/extension.ts'],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    mainFields: ['module', 'main'],
    external: ['vscode', '@tensorflow/tfjs-node'],
    write: false,
    outfile: 'dist/extension.js',
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = result.metafile.inputs;
  const isTfjs = (path: string) => /(^|\/)@tensorflow\//.test(path);
  const bundled = Object.keys(inputs).filter(isTfjs);
  // An external import (tfjs-node is probed at run time by the worker) is not an input: check imports too.
  const importers = Object.entries(inputs)
    .filter(([file]) => !isTfjs(file))
    .filter(([, input]) => input.imports.some((imported) => isTfjs(imported.path)))
    .map(([file]) => file);
  const chains = importers.slice(0, 3).map((file) => chainTo(inputs, 'src/extension.ts', file).join(' -> '));
  assert.deepEqual(
    { bundled: bundled.length, importers },
    { bundled: 0, importers: [] },
    `TensorFlow.js reaches the extension host through:\n  ${chains.join('\n  ')}\nThe host may import lab manifests (src/core/<lab>/manifest.ts), never a lab's runtime or src/core/labs.ts.`,
  );
});
