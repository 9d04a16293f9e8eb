// The kernel table (src/core/kernels/index.ts + kernels.json) is the one list of Model Lab's wasm
// kernels: the build compiles what it lists, the backend info lists it, and models call the ops
// it exports without asking whether a kernel is on (issue 20, item 1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KERNEL_TABLE } from '../../src/core/kernels';

const root = path.join(__dirname, '../..');

/** Every .ts file under `dir` (relative to the repository), as [relative path, text]. */
function sources(dir: string): [string, string][] {
  return fs.readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => [path.posix.join(dir, file.split(path.sep).join('/')), fs.readFileSync(path.join(root, dir, file), 'utf8')]);
}

/**
 * A question whether a kernel is on: `denseKernelActive()`, `stridedConvKernelsActive()`, or the
 * registration's own `denseKernels.active()` / `.enabled()`.
 */
const ASKS_WHETHER_ON = /\b\w+Kernels?Active\s*\(|\b\w+Kernels\s*\.\s*(active|enabled)\s*\(/g;

test('no code outside src/core/kernels/ asks whether a kernel is on: models call the ops the table exports', () => {
  const found = ['src', 'bench', 'webview']
    .flatMap(sources)
    .filter(([file]) => !file.startsWith('src/core/kernels/'))
    .flatMap(([file, text]) =>
      text.split('\n').flatMap((line, i) => [...line.matchAll(ASKS_WHETHER_ON)].map((match) => `${file}:${i + 1}: ${match[0]}`)),
    );
  assert.deepEqual(found, [], `choose the implementation where the kernel is registered (fusedOp in src/core/kernels/wasmModule.ts), not in the model:\n${found.join('\n')}`);
});

test('the scan recognises each way of asking', () => {
  const asks = ['if (denseKernelActive()) {', 'stridedConvKernelsActive() ? a : b', 'const on = adamKernels.active();', 'denseKernels.enabled ()'];
  for (const line of asks) assert.ok([...line.matchAll(ASKS_WHETHER_ON)].length > 0, line);
  for (const line of ['dense(x, w, bias, relu)', 'const kernelActive = true;', 'KERNEL_TABLE.map(({ registration }) => registration.enable())']) {
    assert.equal([...line.matchAll(ASKS_WHETHER_ON)].length, 0, line);
  }
});

test('the table lists every C kernel once, with its committed build, a label and a registration for that module', () => {
  const cSources = fs.readdirSync(path.join(root, 'src/kernels')).filter((file) => file.endsWith('.c')).sort();
  assert.deepEqual(KERNEL_TABLE.map(({ source }) => source).sort(), cSources);
  assert.equal(new Set(KERNEL_TABLE.map(({ id }) => id)).size, KERNEL_TABLE.length, 'ids are unique');
  const prebuilt = fs.readdirSync(path.join(root, 'src/kernels/prebuilt')).filter((file) => file.endsWith('.wasm')).sort();
  assert.deepEqual(KERNEL_TABLE.map(({ id }) => `${id}.wasm`).sort(), prebuilt);
  for (const entry of KERNEL_TABLE) {
    assert.equal(entry.registration.file, `${entry.id}.wasm`, entry.id);
    assert.ok(entry.label.length > 0 && entry.fallback.length > 0, entry.id);
  }
});

test('the build scripts read the same table', async () => {
  const built = (await import(path.join(root, 'scripts/kernels.mjs'))) as { KERNELS: { source: string; output: string }[] };
  assert.deepEqual(built.KERNELS.map(({ source, output }) => [source, output]), KERNEL_TABLE.map(({ source, id }) => [source, `${id}.wasm`]));
});
