// Bundles a bench entry (bench/lib/<entry>) against the `src/` of another source tree (this
// repository's, or a baseline copy), so one invocation can time before and after a change.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as esbuild from 'esbuild';

/**
 * `entry` of `root`/bench/lib (with its sibling modules) compiled against `sourceRoot`/src into `tmp`/`name`/`name`.js, with
 * that tree's gradient worker beside it, and the wasm kernels of `sourceRoot`/dist (a baseline's
 * kernels must match its src), or this repository's when that tree has none; returns the bundle.
 */
export async function bundleAgainst({ root, sourceRoot, entry, tmp, name }) {
  const tree = path.join(tmp, `${name}-tree`);
  fs.mkdirSync(path.join(tree, 'bench/lib'), { recursive: true });
  // The entry and the modules beside it that it imports (bench/lib/*.ts).
  for (const file of fs.readdirSync(path.join(root, 'bench/lib')).filter((f) => f === entry || f.endsWith('.ts'))) {
    fs.copyFileSync(path.join(root, 'bench/lib', file), path.join(tree, 'bench/lib', file));
  }
  fs.symlinkSync(path.join(sourceRoot, 'src'), path.join(tree, 'src'));
  const outfile = path.join(tmp, name, `${name}.js`);
  const options = {
    preserveSymlinks: true,
    nodePaths: [path.join(root, 'node_modules')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'warning',
    mainFields: ['module', 'main'],
    external: ['@tensorflow/tfjs-node'],
  };
  await esbuild.build({ ...options, entryPoints: [path.join(tree, 'bench/lib', entry)], outfile });
  // Training with training.gradientWorkers = 2 starts gradientWorker.js from beside the bundle.
  const gradientWorker = path.join(tree, 'src/engine/gradientWorker.ts');
  if (fs.existsSync(gradientWorker)) await esbuild.build({ ...options, entryPoints: [gradientWorker], outfile: path.join(tmp, name, 'gradientWorker.js') });
  // The bundle looks for our wasm kernels beside itself, as dist/worker.js does.
  const ownKernels = (dir) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.wasm') && !f.startsWith('tfjs-backend-wasm')) : []);
  const dist = ownKernels(path.join(sourceRoot, 'dist')).length > 0 ? path.join(sourceRoot, 'dist') : path.join(root, 'dist');
  for (const kernel of ownKernels(dist)) fs.copyFileSync(path.join(dist, kernel), path.join(tmp, name, kernel));
  return outfile;
}
