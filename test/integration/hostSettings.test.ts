import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  DEFAULT_RUNS_DIRECTORY,
  engineOptionsFrom,
  readEngineSettings,
  readRunsDirectory,
  sameEngineSettings,
  type SettingsSource,
} from '../../src/host/settings';

/** Like WorkspaceConfiguration.get: undefined for keys the user did not set (defaults come from package.json). */
function config(values: Record<string, unknown>): SettingsSource {
  return { get: <T>(key: string) => values[key] as T | undefined };
}

test('unset settings read as the documented defaults', () => {
  const result = readEngineSettings(config({}));
  assert.deepEqual(result, { ok: true, value: { backend: 'auto', tfjsNodePath: '', workers: 1 } });
});

test('the defaults in package.json match the ones the host assumes', async () => {
  const pkg = (await import('../../package.json', { with: { type: 'json' } })).default as {
    contributes: { configuration: { properties: Record<string, { default: unknown; enum?: unknown[] }> } };
  };
  const props = pkg.contributes.configuration.properties;
  assert.equal(props['modelLab.backend'].default, 'auto');
  assert.deepEqual(props['modelLab.backend'].enum, ['auto', 'node', 'wasm', 'cpu']);
  assert.equal(props['modelLab.workers'].default, 1);
  assert.equal(props['modelLab.runsDirectory'].default, DEFAULT_RUNS_DIRECTORY);
});

test('valid settings are passed through', () => {
  const tfjs = path.resolve('/opt/tfjs/node_modules');
  const result = readEngineSettings(config({ backend: 'wasm', tfjsNodePath: ` ${tfjs} `, workers: 2 }));
  assert.deepEqual(result, { ok: true, value: { backend: 'wasm', tfjsNodePath: tfjs, workers: 2 } });
});

test('invalid settings are reported, each naming the setting, never replaced', () => {
  const result = readEngineSettings(config({ backend: 'gpu', tfjsNodePath: 'relative/dir', workers: 0 }));
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(result.problems.length, 3);
  assert.match(result.problems[0], /modelLab\.backend.*auto, node, wasm, cpu.*"gpu"/);
  assert.match(result.problems[1], /modelLab\.tfjsNodePath must be an absolute/);
  assert.match(result.problems[2], /modelLab\.workers.*at least 1.*0/);
  const fractional = readEngineSettings(config({ workers: 1.5 }));
  assert.equal(fractional.ok, false);
  const text = readEngineSettings(config({ workers: '2' }));
  assert.equal(text.ok, false);
});

test('settings map to engine options with the bundled worker and wasm folder', () => {
  const extension = path.resolve('/ext/model-lab');
  const log = () => undefined;
  const options = engineOptionsFrom({ backend: 'cpu', tfjsNodePath: '', workers: 3 }, extension, log);
  assert.deepEqual(options, {
    workerScript: path.join(extension, 'dist', 'worker.js'),
    wasmDir: path.join(extension, 'dist'),
    workers: 3,
    backend: 'cpu',
    log,
  });
  assert.equal('tfjsNodePath' in options, false, 'an empty tfjsNodePath is not passed on');
  const withNode = engineOptionsFrom({ backend: 'node', tfjsNodePath: '/opt/tfjs', workers: 1 }, extension);
  assert.equal(withNode.tfjsNodePath, '/opt/tfjs');
  assert.equal('log' in withNode, false);
});

test('the engine is recreated only when an engine setting changed', () => {
  const base = { backend: 'auto' as const, tfjsNodePath: '', workers: 1 };
  assert.equal(sameEngineSettings(base, { ...base }), true);
  assert.equal(sameEngineSettings(base, { ...base, workers: 2 }), false);
  assert.equal(sameEngineSettings(base, { ...base, backend: 'wasm' }), false);
  assert.equal(sameEngineSettings(base, { ...base, tfjsNodePath: '/x' }), false);
});

test('runsDirectory: default, trimmed, and empty values rejected', () => {
  assert.deepEqual(readRunsDirectory(config({})), { ok: true, value: '.model-lab/runs' });
  assert.deepEqual(readRunsDirectory(config({ runsDirectory: ' out/runs ' })), { ok: true, value: 'out/runs' });
  const empty = readRunsDirectory(config({ runsDirectory: '  ' }));
  assert.equal(empty.ok, false);
  assert.equal(readRunsDirectory(config({ runsDirectory: 42 })).ok, false);
});
