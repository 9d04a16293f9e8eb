// Microbenchmark of the relational encoder's convolution kernels (dist/strided-conv.wasm: forward,
// input gradient, filter gradient) against another build of them, called directly (no tfjs) on the
// same random inputs, alternated call by call in one process: ms per call (median), the rate in
// direct-convolution GFLOP/s, and whether both builds give the same results.
//
//   node bench/conv-kernel.mjs --baseline /tmp/before/dist/strided-conv.wasm [--calls 20]
//                              [--shapes '[[64,16,32,32],[64,8,32,32]]']   (n, h = w, channels in, out)
//
// Each kernel is warmed up for 10 calls first: V8 compiles a module's functions with its baseline
// compiler and swaps in optimised code only after some calls; even so the first shape can read up
// to 1.7x slow (repeat it in --shapes to see).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    baseline: { type: 'string' },
    kernel: { type: 'string', default: path.join(root, 'dist/strided-conv.wasm') },
    calls: { type: 'string', default: '20' },
    shapes: { type: 'string', default: '[[64,32,1,32],[64,16,32,32],[64,8,32,32],[288,16,32,32]]' },
  },
});
if (!args.baseline) {
  console.error('--baseline FILE is required: another build of strided-conv.wasm (bench/README.md, "--baseline")');
  process.exit(2);
}
const shapes = JSON.parse(args.shapes);
const CALLS = Number(args.calls);
const WARMUP = 10;

/** One build, instantiated on its own memory, with the inputs of every shape written into it. */
async function setup(file) {
  const memory = new WebAssembly.Memory({ initial: 4096 }); // 256 MB
  const { instance } = await WebAssembly.instantiate(fs.readFileSync(file), { env: { memory } });
  const kernel = instance.exports;
  const floats = new Float32Array(memory.buffer);
  let top = 1 << 20;
  const alloc = (bytes) => {
    const at = top;
    top += Math.ceil(bytes / 64) * 64 + 64;
    return at;
  };
  let seed = 1; // the same inputs in both builds
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5;
  const fill = (at, count) => { for (let i = 0; i < count; i++) floats[at / 4 + i] = random(); };
  const checksum = (at, count) => { let s = 0; for (let i = 0; i < count; i++) s += floats[at / 4 + i] * ((i % 7) - 3); return s; };
  return shapes.map(([n, h, c, o]) => {
    const oh = h / 2, sizes = { x: n * h * h * c, w: 16 * c * o, y: n * oh * oh * o };
    const [x, w, bias, y, dy, dx, dw] = [sizes.x, sizes.w, o, sizes.y, sizes.y, sizes.x, sizes.w].map((count) => alloc(4 * count));
    fill(x, sizes.x); fill(w, sizes.w); fill(bias, o); fill(dy, sizes.y);
    const scratch = [kernel.forward_scratch(n, h, h, c, o), kernel.input_gradient_scratch(n, oh, oh, c, o), kernel.filter_gradient_scratch(n, h, h, c, o)].map(alloc);
    return {
      forward: () => kernel.forward(x, w, bias, y, scratch[0], n, h, h, c, o, 1),
      'input gradient': c > 1 ? () => kernel.input_gradient(dy, w, dx, scratch[1], n, oh, oh, c, o) : undefined,
      'filter gradient': () => kernel.filter_gradient(x, dy, dw, scratch[2], n, h, h, c, o),
      results: () => [checksum(y, sizes.y), c > 1 ? checksum(dx, sizes.x) : 0, checksum(dw, sizes.w)],
    };
  });
}

const [before, after] = [await setup(args.baseline), await setup(args.kernel)];
const median = (times) => times.sort((a, b) => a - b)[times.length >> 1];
console.log(`${args.baseline} -> ${args.kernel}, median of ${CALLS} calls, alternated`);
for (const [s, [n, h, c, o]] of shapes.entries()) {
  const flops = 2 * n * (h / 2) ** 2 * 16 * c * o;
  const cells = [];
  for (const name of ['forward', 'input gradient', 'filter gradient']) {
    if (!after[s][name]) continue;
    const times = [[], []];
    for (let call = 0; call < WARMUP + CALLS; call++)
      for (const [side, build] of [before, after].entries()) {
        const start = performance.now();
        build[s][name]();
        if (call >= WARMUP) times[side].push(performance.now() - start);
      }
    const [a, b] = times.map(median);
    const rate = (ms) => (flops / ms / 1e6).toFixed(0);
    cells.push(`${name} ${a.toFixed(2)} -> ${b.toFixed(2)} ms (${rate(a)} -> ${rate(b)} GFLOP/s, ${(a / b).toFixed(2)}x)`);
  }
  const [ra, rb] = [before[s].results(), after[s].results()];
  const same = ra.every((v, i) => Math.abs(v - rb[i]) <= 1e-3 * (Math.abs(v) + 1));
  console.log(`x [${n}, ${h}, ${h}, ${c}], ${o} filters: ${cells.join('; ')}; ${same ? 'same results' : `RESULTS DIFFER: ${ra} vs ${rb}`}`);
}
