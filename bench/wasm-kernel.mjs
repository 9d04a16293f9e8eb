// Microbenchmark of the matMul wasm kernel (issue 6): ms per call of tf.matMul (wasm backend)
// against ours (dist/batched-matmul.wasm, working in tfjs's heap: no copies since 2026-12-06),
// median of N calls, for the posterior transformer's and the retrieval models' attention products and for the 2-D products
// of linear layers and their gradients, in one invocation. Needs the kernel built (`npm run build`
// with clang and lld installed).
//
//   node bench/wasm-kernel.mjs [--calls 30]
import { bundleAgainst } from './lib/bundleAgainst.mjs';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({ options: { calls: { type: 'string', default: '30' } } });
const kernel = path.join(root, 'dist/batched-matmul.wasm');
if (!fs.existsSync(kernel)) {
  console.error(`${kernel} is missing: install clang and lld (Debian) and run npm run build`);
  process.exit(1);
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'model-lab-wasm-kernel-'));
try {
  const bundle = await bundleAgainst({ root, sourceRoot: root, entry: 'wasmKernel.ts', tmp, name: 'ours' });
  const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`load average at start ${load()}`);
  const request = { wasmDir: path.join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist'), kernel, calls: Number(args.calls) };
  const child = spawnSync(process.execPath, [bundle, JSON.stringify(request)], { stdio: ['ignore', 'inherit', 'inherit'] });
  console.log(`load average at end ${load()}`);
  process.exitCode = child.status ?? 1;
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
