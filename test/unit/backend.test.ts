import assert from 'node:assert/strict';
import * as path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { selectBackend, TFJS_NODE_PACKAGE, type ModuleLoader } from '../../src/engine/backend';

const wasmDir = path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist');
const FAKE_ENTRY = '/fake/node_modules/@tensorflow/tfjs-node/dist/index.js';

/**
 * Stands in for `require`: tfjs-node cannot be installed here. Loading "registers" the
 * 'tensorflow' backend the way the real package does (a cpu backend under that name).
 */
function fakeLoader(options: { installedIn?: string; loadError?: Error; registers?: boolean } = {}) {
  const calls = { resolve: [] as Array<{ id: string; paths?: string[] }>, load: [] as string[] };
  const loader: ModuleLoader = {
    resolve(id, paths) {
      calls.resolve.push({ id, paths });
      if (id !== TFJS_NODE_PACKAGE) return undefined;
      if (options.installedIn === undefined) return undefined;
      // Found from the extension's own node_modules when installedIn is '', else only via that path.
      if (options.installedIn === '' ? paths === undefined : paths?.includes(options.installedIn)) return FAKE_ENTRY;
      return undefined;
    },
    load(file) {
      calls.load.push(file);
      if (options.loadError) throw options.loadError;
      if (options.registers !== false) tf.registerBackend('tensorflow', () => new MathBackendCPU());
      return {};
    },
  };
  return { loader, calls };
}

afterEach(() => {
  if (tf.findBackendFactory('tensorflow')) tf.removeBackend('tensorflow');
});

describe('selectBackend', () => {
  it('auto uses tfjs-node when it resolves and loads', async () => {
    const { loader, calls } = fakeLoader({ installedIn: '' });
    const info = await selectBackend('auto', { loader, wasmDir });
    assert.equal(info.name, 'node');
    assert.equal(info.requested, 'auto');
    assert.equal(info.fallbackReason, undefined);
    assert.equal(info.version, tf.version.tfjs);
    assert.equal(tf.getBackend(), 'tensorflow');
    assert.deepEqual(calls.load, [FAKE_ENTRY]);
  });

  it('auto falls back to wasm with a reason when tfjs-node resolves but fails to load', async () => {
    const { loader } = fakeLoader({ installedIn: '', loadError: new Error('invalid ELF header\n    at stack line') });
    const info = await selectBackend('auto', { loader, wasmDir });
    assert.equal(info.name, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
    assert.match(info.fallbackReason ?? '', /could not be loaded \(invalid ELF header\)/);
    assert.match(info.fallbackReason ?? '', /WebAssembly/);
    assert.doesNotMatch(info.fallbackReason ?? '', /stack line/);
  });

  it('auto uses wasm without complaint when tfjs-node is simply not installed', async () => {
    const { loader } = fakeLoader();
    const info = await selectBackend('auto', { loader, wasmDir });
    assert.equal(info.name, 'wasm');
    assert.equal(info.fallbackReason, undefined);
  });

  it('looks for tfjs-node in the folder the user set', async () => {
    const userDir = '/opt/my-tfjs-node';
    const { loader, calls } = fakeLoader({ installedIn: userDir });
    const info = await selectBackend('node', { loader, wasmDir, tfjsNodePath: userDir });
    assert.equal(info.name, 'node');
    assert.deepEqual(calls.resolve[0], { id: TFJS_NODE_PACKAGE, paths: [userDir] });
  });

  it('explicit node that cannot be found falls back with a reason naming where it looked', async () => {
    const { loader } = fakeLoader();
    const info = await selectBackend('node', { loader, wasmDir, tfjsNodePath: '/opt/elsewhere' });
    assert.equal(info.name, 'wasm');
    assert.equal(info.requested, 'node');
    assert.match(info.fallbackReason ?? '', /not installed/);
    assert.match(info.fallbackReason ?? '', /\/opt\/elsewhere/);
  });

  it('explicit node that loads without registering a backend falls back', async () => {
    const { loader } = fakeLoader({ installedIn: '', registers: false });
    const info = await selectBackend('node', { loader, wasmDir });
    assert.equal(info.name, 'wasm');
    assert.match(info.fallbackReason ?? '', /did not register/);
  });

  it('falls back from wasm to cpu when the wasm files are missing', async () => {
    const { loader } = fakeLoader();
    const info = await selectBackend('wasm', { loader, wasmDir: '/nonexistent-wasm-dir' });
    assert.equal(info.name, 'cpu');
    assert.equal(tf.getBackend(), 'cpu');
    assert.match(info.fallbackReason ?? '', /files are missing from \/nonexistent-wasm-dir/);
  });

  it('explicit cpu uses cpu without touching tfjs-node', async () => {
    const { loader, calls } = fakeLoader({ installedIn: '' });
    const info = await selectBackend('cpu', { loader, wasmDir });
    assert.deepEqual(info, { name: 'cpu', requested: 'cpu', version: tf.version.tfjs });
    assert.equal(tf.getBackend(), 'cpu');
    assert.equal(calls.resolve.length + calls.load.length, 0);
  });

  it('explicit wasm uses wasm', async () => {
    const { loader, calls } = fakeLoader({ installedIn: '' });
    const info = await selectBackend('wasm', { loader, wasmDir });
    assert.equal(info.name, 'wasm');
    assert.equal(info.fallbackReason, undefined);
    assert.equal(calls.load.length, 0);
  });
});
