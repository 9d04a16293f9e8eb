/**
 * The `modelLab.*` settings: read and checked in one place, then mapped to what the engine and
 * the run store need. No 'vscode' import: `WorkspaceConfiguration` satisfies `SettingsSource`,
 * and tests pass a plain object.
 */
import * as path from 'node:path';
import type { BackendSetting } from '../protocol';
import type { EngineOptions } from '../engine/engine';

export const SETTINGS_SECTION = 'modelLab';
export const DEFAULT_RUNS_DIRECTORY = '.model-lab/runs';
const BACKENDS: readonly BackendSetting[] = ['auto', 'node', 'wasm', 'cpu'];

/** What the engine is configured with; a change of any of these recreates the engine. */
export interface EngineSettings {
  backend: BackendSetting;
  /** Empty string: no extra location for tfjs-node. */
  tfjsNodePath: string;
  workers: number;
}

/** Anything with VS Code's `WorkspaceConfiguration.get` shape (section already applied). */
export interface SettingsSource {
  get<T>(key: string): T | undefined;
}

export type SettingsResult<T> = { ok: true; value: T } | { ok: false; problems: string[] };

/**
 * Reads the engine settings. An invalid value (e.g. `workers: 0` typed into settings.json) is
 * reported, never replaced by a default: the user should know why training does not start.
 */
export function readEngineSettings(config: SettingsSource): SettingsResult<EngineSettings> {
  const problems: string[] = [];
  const backend = config.get<unknown>('backend') ?? 'auto';
  if (typeof backend !== 'string' || !BACKENDS.includes(backend as BackendSetting)) {
    problems.push(`modelLab.backend must be one of ${BACKENDS.join(', ')}; got ${JSON.stringify(backend)}`);
  }
  const tfjsNodePath = config.get<unknown>('tfjsNodePath') ?? '';
  if (typeof tfjsNodePath !== 'string') {
    problems.push(`modelLab.tfjsNodePath must be a folder path (a string); got ${JSON.stringify(tfjsNodePath)}`);
  } else if (tfjsNodePath.trim() !== '' && !path.isAbsolute(tfjsNodePath.trim())) {
    problems.push(`modelLab.tfjsNodePath must be an absolute folder path; got "${tfjsNodePath}"`);
  }
  const workers = config.get<unknown>('workers') ?? 1;
  if (typeof workers !== 'number' || !Number.isInteger(workers) || workers < 1) {
    problems.push(`modelLab.workers must be a whole number of at least 1; got ${JSON.stringify(workers)}`);
  }
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    value: {
      backend: backend as BackendSetting,
      tfjsNodePath: (tfjsNodePath as string).trim(),
      workers: workers as number,
    },
  };
}

/** The `modelLab.runsDirectory` of one workspace folder (resource-scoped setting). */
export function readRunsDirectory(config: SettingsSource): SettingsResult<string> {
  const value = config.get<unknown>('runsDirectory') ?? DEFAULT_RUNS_DIRECTORY;
  if (typeof value !== 'string' || value.trim() === '') {
    return { ok: false, problems: [`modelLab.runsDirectory must be a non-empty folder path; got ${JSON.stringify(value)}`] };
  }
  return { ok: true, value: value.trim() };
}

/** Two settings snapshots that would produce the same engine. */
export function sameEngineSettings(a: EngineSettings, b: EngineSettings): boolean {
  return a.backend === b.backend && a.tfjsNodePath === b.tfjsNodePath && a.workers === b.workers;
}

/**
 * Engine options for the bundled extension: the worker script and the tfjs `.wasm` files sit
 * in `<extension>/dist` (see scripts/build.mjs).
 */
export function engineOptionsFrom(
  settings: EngineSettings,
  extensionPath: string,
  log?: EngineOptions['log'],
): EngineOptions {
  const dist = path.join(extensionPath, 'dist');
  return {
    workerScript: path.join(dist, 'worker.js'),
    wasmDir: dist,
    workers: settings.workers,
    backend: settings.backend,
    ...(settings.tfjsNodePath ? { tfjsNodePath: settings.tfjsNodePath } : {}),
    ...(log ? { log } : {}),
  };
}
