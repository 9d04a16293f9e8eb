/** A worker entry bundled for Node the way scripts/build.mjs bundles it, for tests that start threads. */
import * as path from 'node:path';
import * as esbuild from 'esbuild';

const root = path.join(__dirname, '..', '..');

/** Bundles `entry` (relative to the repository) into `outfile` (CommonJS, Node 20). */
export async function bundleWorker(entry: string, outfile: string): Promise<void> {
  await esbuild.build({
    entryPoints: [path.join(root, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'warning',
    external: ['@tensorflow/tfjs-node'],
    mainFields: ['module', 'main'],
  });
}
