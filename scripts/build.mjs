// Builds every bundle the extension ships: extension host (CJS, `vscode` external),
// training worker, CLI, and one browser bundle per webview. Also copies the
// TensorFlow.js wasm binaries and webview assets beside the bundles and writes
// the experiment JSON schema generated from core.
import * as esbuild from 'esbuild';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

/** Model Lab's wasm kernels: source in src/kernels, module in dist/, and what runs without it. */
const KERNELS = [
  { source: 'batchedMatMul.c', output: 'batched-matmul.wasm', fallback: 'tf.matMul' },
  { source: 'stridedConv.c', output: 'strided-conv.wasm', fallback: 'stride-1 convolutions for the conv gradients' },
  { source: 'maskedAttention.c', output: 'masked-attention.wasm', fallback: 'tfjs ops for the posterior transformer\'s attention' },
  { source: 'layerNorm.c', output: 'layer-norm.wasm', fallback: 'tfjs ops for layer normalisation' },
  { source: 'dense.c', output: 'dense.wasm', fallback: 'tfjs ops for dense layers' },
  { source: 'copy.c', output: 'copy.wasm', fallback: 'tfjs\'s JavaScript Concat, Slice and SplitV' },
  { source: 'adam.c', output: 'adam.wasm', fallback: 'tfjs ops for Adam\'s update' },
];

/**
 * The wasm kernels, with Debian's clang and lld (wasm-ld), when they are installed. Optional:
 * without them each op keeps its tfjs fallback, so a missing compiler is a message, not a
 * failure; a compile error in a kernel is a failure.
 */
function buildKernels() {
  const hasTool = (tool) => {
    try {
      execFileSync(tool, ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  if (!hasTool('clang') || !hasTool('wasm-ld')) {
    for (const { output, fallback } of KERNELS) {
      rmSync(join(dist, output), { force: true });
      console.log(`build: clang or wasm-ld not found: skipping ${output} (${fallback} instead; apt-get install clang lld to build it)`);
    }
    return;
  }
  const objects = mkdtempSync(join(tmpdir(), 'model-lab-kernels-'));
  try {
    for (const { source, output } of KERNELS) {
      const object = join(objects, `${source}.o`);
      // -fno-builtin: without a libc, loops must not become calls to memset/memcpy.
      execFileSync('clang', ['--target=wasm32', '-nostdlib', '-O3', '-msimd128', '-fno-builtin', '-c', '-o', object, join(root, 'src/kernels', source)], { stdio: 'inherit' });
      assertHeapFree(source, object);
      // The module imports tfjs's memory (src/core/kernels/wasmModule.ts): it computes on the tensors where they are.
      execFileSync('wasm-ld', ['--no-entry', '--export-dynamic', '--import-memory', '-o', join(dist, output), object], { stdio: 'inherit' });
    }
  } finally {
    rmSync(objects, { recursive: true, force: true });
  }
}

/**
 * A kernel runs inside tfjs's heap, where wasm-ld's stack and static data would overwrite tfjs's
 * own (wasm-ld lays them out from address 1024): its object may use neither. Each shows up in the
 * object's symbol table, as `__stack_pointer` or as a data segment.
 */
function assertHeapFree(source, object) {
  const text = readFileSync(object).toString('latin1');
  const uses = [['__stack_pointer', 'the stack (a local array, or a struct whose address is taken)'], ['.rodata', 'constant data (a lookup table)'], ['.data', 'static data'], ['.bss', 'static data']]
    .filter(([symbol]) => text.includes(symbol)).map(([, what]) => what);
  if (uses.length > 0) throw new Error(`src/kernels/${source} uses ${uses.join(' and ')}; kernels run in tfjs's heap and may only touch the memory their caller passes in`);
}

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
  buildKernels();
} catch (error) {
  // esbuild has already printed the located errors.
  console.error(`build failed: ${error.message.split('\n')[0]}`);
  process.exit(1);
}
