/**
 * Picks the TensorFlow.js backend a worker trains with: `@tensorflow/tfjs-node` when it is
 * installed and loads, else WebAssembly (SIMD), else the plain JavaScript cpu backend.
 * Nothing is downloaded at run time; a fallback always says why in a sentence for the user.
 *
 * Runs inside the worker (it changes the process-wide tfjs engine), never on the host.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { Backend, BackendInfo, BackendSetting } from '../protocol';
import { errorMessage } from '../shared/errors';
import { selectKernels } from './kernels';

export const TFJS_NODE_PACKAGE = '@tensorflow/tfjs-node';

/** How `@tensorflow/tfjs-node` is found and loaded; injected by tests (it is not installable here). */
export interface ModuleLoader {
  /** Absolute path of the module's entry file, or undefined when it cannot be found. */
  resolve(id: string, paths?: string[]): string | undefined;
  /** Load (execute) the module at `path`; throws when it cannot be loaded. */
  load(path: string): unknown;
}

export interface SelectBackendOptions {
  loader?: ModuleLoader;
  /** A folder the user points at that holds (or is) an installed `@tensorflow/tfjs-node`. */
  tfjsNodePath?: string;
  /** Folder with the tfjs-backend-wasm `.wasm` binaries (dist/ in production). */
  wasmDir: string;
}

/** tfjs name of each backend. */
const TFJS_BACKEND_NAME: Record<Backend, string> = { node: 'tensorflow', wasm: 'wasm', cpu: 'cpu' };

const WASM_BINARIES = ['tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm.wasm'];

/**
 * A real `require` relative to this file. The bundle marks tfjs-node external, so it must be
 * loaded with a runtime require of a resolved path, never a static import.
 */
export function nodeModuleLoader(): ModuleLoader {
  const localRequire = createRequire(__filename);
  return {
    resolve(id, paths) {
      try {
        return localRequire.resolve(id, paths ? { paths } : undefined);
      } catch {
        return undefined;
      }
    },
    load: (file) => localRequire(file) as unknown,
  };
}

/** The backend, then Model Lab's own kernels on top of it (src/engine/kernels.ts). */
export async function selectBackend(setting: BackendSetting, opts: SelectBackendOptions): Promise<BackendInfo> {
  return selectKernels(await selectTfjsBackend(setting, opts));
}

async function selectTfjsBackend(setting: BackendSetting, opts: SelectBackendOptions): Promise<BackendInfo> {
  const loader = opts.loader ?? nodeModuleLoader();
  const info = (name: Backend, fallbackReason?: string): BackendInfo => ({
    name,
    requested: setting,
    ...(fallbackReason ? { fallbackReason } : {}),
    version: tf.version.tfjs,
  });

  // Reasons accumulate along the chain node -> wasm -> cpu, so the user sees every step that failed.
  const reasons: string[] = [];

  if (setting === 'auto' || setting === 'node') {
    const attempt = await tryNode(loader, opts.tfjsNodePath);
    if (attempt.ok) return info('node');
    // `auto` without tfjs-node installed is the normal case, not a fallback worth reporting.
    if (setting === 'node' || attempt.found) reasons.push(attempt.reason);
  }

  if (setting !== 'cpu') {
    const attempt = await tryWasm(opts.wasmDir);
    if (attempt.ok) return info('wasm', joinReasons(reasons, 'the WebAssembly backend'));
    reasons.push(attempt.reason);
  }

  if (!(await tf.setBackend('cpu'))) {
    throw new Error('The TensorFlow.js cpu backend could not be started.');
  }
  return info('cpu', joinReasons(reasons, 'the plain JavaScript cpu backend (slow)'));
}

type Attempt = { ok: true } | { ok: false; found: boolean; reason: string };

async function tryNode(loader: ModuleLoader, tfjsNodePath: string | undefined): Promise<Attempt> {
  const searched: string[] = [];
  let entry: string | undefined;
  if (tfjsNodePath) {
    // The setting may name the package folder itself or a folder whose node_modules holds it.
    entry = loader.resolve(TFJS_NODE_PACKAGE, [tfjsNodePath]) ?? loader.resolve(path.resolve(tfjsNodePath));
    searched.push(tfjsNodePath);
  }
  entry ??= loader.resolve(TFJS_NODE_PACKAGE);
  if (!entry) {
    const where = searched.length ? `in ${searched.join(', ')} nor in the extension's node_modules` : "in the extension's node_modules";
    return { ok: false, found: false, reason: `${TFJS_NODE_PACKAGE} is not installed (not found ${where}).` };
  }

  try {
    // Loading registers the 'tensorflow' backend in the process-wide tfjs engine.
    loader.load(entry);
  } catch (error) {
    return {
      ok: false,
      found: true,
      reason: `${TFJS_NODE_PACKAGE} was found at ${entry} but could not be loaded (${firstLine(error)}); it may have been built for another platform or Node version.`,
    };
  }

  const name = TFJS_BACKEND_NAME.node;
  if (!tf.findBackendFactory(name)) {
    return { ok: false, found: true, reason: `${TFJS_NODE_PACKAGE} at ${entry} loaded but did not register its backend.` };
  }
  try {
    if (await tf.setBackend(name)) return { ok: true };
  } catch (error) {
    return { ok: false, found: true, reason: `${TFJS_NODE_PACKAGE} loaded but its backend failed to start (${firstLine(error)}).` };
  }
  return { ok: false, found: true, reason: `${TFJS_NODE_PACKAGE} loaded but its backend failed to start.` };
}

async function tryWasm(wasmDir: string): Promise<Attempt> {
  const missing = WASM_BINARIES.filter((file) => !fs.existsSync(path.join(wasmDir, file)));
  if (missing.length === WASM_BINARIES.length) {
    return { ok: false, found: false, reason: `the WebAssembly backend's files are missing from ${wasmDir}.` };
  }
  // Emscripten joins the prefix and the file name as is: it needs the trailing separator.
  setWasmPaths(wasmDir.endsWith('/') ? wasmDir : `${wasmDir}/`);
  try {
    if (await tf.setBackend(TFJS_BACKEND_NAME.wasm)) return { ok: true };
  } catch (error) {
    return { ok: false, found: true, reason: `the WebAssembly backend failed to start (${firstLine(error)}).` };
  }
  return { ok: false, found: true, reason: `the WebAssembly backend failed to start (see the log for details).` };
}

function joinReasons(reasons: string[], using: string): string | undefined {
  if (reasons.length === 0) return undefined;
  return `${reasons.map(capitalize).join(' ')} Using ${using} instead.`;
}

function capitalize(sentence: string): string {
  return sentence.charAt(0).toUpperCase() + sentence.slice(1);
}

function firstLine(error: unknown): string {
  const message = errorMessage(error);
  return message.split('\n')[0].trim();
}
