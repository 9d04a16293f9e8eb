/**
 * One side of bench/wasm-kernel.mjs, bundled by it and run in a child process: ms per call of
 * tf.matMul on tfjs's BatchMatMul kernel against ours (which works in tfjs's heap), median of N calls,
 * for the attention shapes of the posterior transformer and of the retrieval models.
 * Prints a table and one JSON line on stdout.
 *
 *   node wasmKernel.js '{"wasmDir": "...", "kernel": ".../batched-matmul.wasm", "calls": 30}'
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/engine/backend';
import { batchedMatMulKernels } from '../../src/core/kernels/batchedMatMul';

interface Request {
  wasmDir: string;
  kernel: string;
  calls: number;
}

interface Case {
  name: string;
  a: number[];
  b: number[];
  transposeA: boolean;
  transposeB: boolean;
  /**
   * A new right operand for every call, as in training (weights are reassigned every step,
   * gradients are new tensors): tfjs's 2-D product repacks a right operand it has not seen.
   */
  freshRight?: boolean;
}

// The products as the models issue them: Q K^T with the transpose flag, A V without.
const CASES: Case[] = [
  { name: 'posterior Q K^T', a: [32, 4, 128, 8], b: [32, 4, 128, 8], transposeA: false, transposeB: true },
  { name: 'posterior A V', a: [32, 4, 128, 128], b: [32, 4, 128, 8], transposeA: false, transposeB: false },
  { name: 'posterior dQ = dS K', a: [32, 4, 128, 128], b: [32, 4, 128, 8], transposeA: false, transposeB: false },
  { name: 'posterior dK = dS^T Q', a: [32, 4, 128, 128], b: [32, 4, 128, 8], transposeA: true, transposeB: false },
  { name: 'posterior dV = A^T dO', a: [32, 4, 128, 128], b: [32, 4, 128, 8], transposeA: true, transposeB: false },
  { name: 'retrieval Q K^T', a: [256, 2, 10, 32], b: [256, 2, 10, 32], transposeA: false, transposeB: true },
  { name: 'retrieval [..,32,10] plain', a: [256, 2, 10, 32], b: [256, 2, 32, 10], transposeA: false, transposeB: false },
  { name: 'retrieval A V', a: [256, 2, 10, 10], b: [256, 2, 10, 32], transposeA: false, transposeB: false },
  // 2-D products of a linear layer (retrieval: 2560 rows of width 64; CoRelNet's fc1) and its gradients.
  { name: 'linear x W', a: [2560, 64], b: [64, 64], transposeA: false, transposeB: false, freshRight: true },
  { name: 'weight gradient x^T dy', a: [2560, 64], b: [2560, 64], transposeA: true, transposeB: false, freshRight: true },
  { name: 'input gradient dy W^T', a: [2560, 64], b: [64, 64], transposeA: false, transposeB: true, freshRight: true },
  { name: 'CoRelNet fc1', a: [64, 512], b: [512, 256], transposeA: false, transposeB: false, freshRight: true },
];

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * Median ms of `calls` calls of f. The wasm backend runs each kernel synchronously inside the
 * call, so the result is not read back: reading an 8 MB tensor costs more than the product.
 */
function time(f: () => tf.Tensor, calls: number, beforeEach: () => void): number {
  for (let i = 0; i < 3; i++) f().dispose();
  const ms: number[] = [];
  for (let i = 0; i < calls; i++) {
    beforeEach();
    const started = performance.now();
    const out = f();
    ms.push(performance.now() - started);
    out.dispose();
  }
  return median(ms);
}

async function main() {
  const request = JSON.parse(process.argv[2]) as Request;
  const backend = await selectBackend('wasm', { wasmDir: request.wasmDir });
  const problem = batchedMatMulKernels.enable([request.kernel]);
  if (problem) throw new Error(problem);
  // The same tf.matMul call on tfjs's BatchMatMul kernel, then on ours.
  const onKernel = (ours: boolean, f: () => tf.Tensor) => () => {
    if (ours) batchedMatMulKernels.enable([request.kernel]);
    else batchedMatMulKernels.disable();
    return f();
  };
  const rows = [];
  for (const c of CASES) {
    const a = tf.randomNormal(c.a, 0, 1, 'float32', 1);
    let b = tf.randomNormal(c.b, 0, 1, 'float32', 2);
    const product = () => tf.matMul(a, b, c.transposeA, c.transposeB);
    // tf.add, not tf.clone: a clone shares the buffer (sharedIdentity), which tfjs's cache would recognise.
    const renew = () => {
      if (!c.freshRight) return;
      const next = tf.add(b, 0);
      b.dispose();
      b = next;
    };
    const expected = onKernel(false, product)();
    const ours = onKernel(true, product)();
    const error = tf.max(tf.abs(tf.sub(expected, ours))).dataSync()[0] / tf.max(tf.abs(expected)).dataSync()[0];
    const out = expected.shape;
    const k = c.transposeA ? c.a[c.a.length - 2] : c.a[c.a.length - 1];
    const flops = 2 * out.reduce((p, d) => p * d, 1) * k;
    const tfMs = time(onKernel(false, product), request.calls, renew);
    const oursMs = time(onKernel(true, product), request.calls, renew);
    rows.push({ name: c.name, a: c.a, b: c.b, transposeA: c.transposeA, transposeB: c.transposeB, freshRight: c.freshRight, tfMs, oursMs, ratio: tfMs / oursMs, tfGflops: flops / tfMs / 1e6, oursGflops: flops / oursMs / 1e6, maxRelError: error });
    tf.dispose([a, b, expected, ours]);
  }
  console.log(`backend ${backend.name}, tfjs ${tf.version.tfjs}, median of ${request.calls} calls, ours in tfjs's heap (no copies)`);
  console.log('| product | shapes (flags) | tf.matMul ms (GFLOP/s) | ours ms (GFLOP/s) | speed-up | max rel. error |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    const flags = `${r.transposeA ? 'T' : 'N'}${r.transposeB ? 'T' : 'N'}`;
    console.log(`| ${r.name}${r.freshRight ? ' (new right operand per call)' : ''} | [${r.a}] x [${r.b}] (${flags}) | ${r.tfMs.toFixed(2)} (${r.tfGflops.toFixed(1)}) | ${r.oursMs.toFixed(2)} (${r.oursGflops.toFixed(1)}) | ${r.ratio.toFixed(2)}x | ${r.maxRelError.toExponential(1)} |`);
  }
  console.log(JSON.stringify({ rows }));
}

main().catch((error) => {
  console.log(JSON.stringify({ error: (error as Error).message }));
  process.exit(1);
});
