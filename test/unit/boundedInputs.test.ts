/**
 * Bounded inputs (issue 18, items 7 and 9): the memory estimate refuses a model or batch too large
 * for the backend or the configured limit before any run folder exists, and files the user names
 * (object images, data) are read only when they are regular files of a bounded size, PNG sizes
 * from their header before any decoding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { PNG } from 'pngjs';
import '../../src/core/labs';
import { estimateTrainingMemory, GiB, memoryLimit, memoryProblem, WASM_HEAP_LIMIT_BYTES } from '../../src/core/memoryEstimate';
import { loadPngFolder, ObjectSetError, pngDimensions } from '../../src/core/relational/pngFolder';
import { SpecError, type ResolvedSpec } from '../../src/core/spec/types';
import { loadSpecFile } from '../../src/core/spec/validate';
import { INPUT_LIMITS, InputFileError, readUserFile } from '../../src/core/userFiles';
import type { Engine } from '../../src/engine/engine';
import { launchRun } from '../../src/app/launch';

const root = join(__dirname, '..', '..');
const example = (name: string) => loadSpecFile(join(root, 'examples', name));

function workspace(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'bounded-inputs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('every shipped example fits comfortably; the estimate grows with width squared and with the batch', () => {
  for (const name of ['retrieval-mha.lab.json', 'retrieval-compositional.lab.json', 'relational-same-diff-lstm.lab.json', 'posterior-gaussian-mean.lab.json']) {
    const estimate = estimateTrainingMemory(example(name))!;
    assert.ok(estimate.bytes < 1 * GiB, `${name}: ${estimate.bytes} bytes`);
  }
  const spec = example('retrieval-mha.lab.json');
  const wide = (dim: number, batchSize = spec.training.batchSize): ResolvedSpec => ({ ...spec, model: { ...spec.model, dim }, training: { ...spec.training, batchSize } });
  const at = (s: ResolvedSpec) => estimateTrainingMemory(s)!;
  assert.ok(at(wide(1024)).parameters > 3.9 * at(wide(512)).parameters, 'parameters ~ dim^2');
  assert.equal(at(wide(16384)).blame, '/model/dim');
  assert.equal(at(wide(8, 1_000_000)).blame, '/training/batchSize');
  assert.ok(at(wide(8, 2_000_000)).bytes > 1.9 * at(wide(8, 1_000_000)).bytes - at(wide(8, 1)).bytes * 2);
});

test('model.dim 16384 is refused on wasm (its 4 GiB heap) with the estimate; a setting lowers the limit', () => {
  const spec = example('retrieval-mha.lab.json');
  const huge = { ...spec, model: { ...spec.model, dim: 16384 } };
  const problem = memoryProblem(huge, 'wasm')!;
  assert.equal(problem.path, '/model/dim');
  assert.match(problem.message, /needs an estimated \d+\.\d GiB \(\d+ million parameters, batch \d+\), more than 4\.0 GiB, the wasm backend's 4 GiB heap/);
  assert.equal(memoryLimit('wasm', 1_000_000).bytes, WASM_HEAP_LIMIT_BYTES, 'a larger setting does not lift wasm32');
  assert.equal(memoryLimit('node', 2048).bytes, 2048 * 1024 * 1024);
  assert.equal(memoryProblem(spec, 'wasm'), undefined);
  assert.match(memoryProblem(spec, 'node', 1)!.message, /more than 1 MiB, the memory limit setting \(1 MB\)/);
});

test('launching a spec too large for memory is a located spec error before any run folder exists', async (t) => {
  const dir = workspace(t);
  const file = join(dir, 'huge.lab.json');
  const spec = JSON.parse(readFileSync(join(root, 'examples', 'retrieval-mha.lab.json'), 'utf8'));
  writeFileSync(file, JSON.stringify({ ...spec, model: { ...spec.model, dim: 16384 } }, null, 2));
  let started = 0;
  const engine = {
    backendInfo: async () => ({ name: 'wasm', requested: 'wasm', version: 'test' }),
    startTraining: () => {
      started++;
      throw new Error('must not start');
    },
  } as unknown as Engine;
  const runsDir = join(dir, 'runs');
  await assert.rejects(launchRun(engine, { specFile: file, runsDir, workers: 1 }), (error: unknown) => {
    assert.ok(error instanceof SpecError);
    assert.equal(error.problems[0].path, '/model/dim');
    assert.ok(error.problems[0].line! > 1, 'located in the file');
    assert.match(error.message, /huge\.lab\.json:\d+:\d+: \/model\/dim: training this spec needs an estimated/);
    return true;
  });
  assert.equal(started, 0);
  assert.deepEqual(existsSync(runsDir) ? readdirSync(runsDir) : [], [], 'no run folder, no temp folder');
});

/** A PNG whose header declares `width` x `height` and whose pixel data is a few zero rows. */
function pngDeclaring(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    return Buffer.concat([length, Buffer.from(type, 'latin1'), data, Buffer.alloc(4)]); // CRC not checked before decoding
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // greyscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.alloc(4 * (width + 1)))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

test('a small PNG declaring 20000 x 20000 pixels is refused from its header, without decoding', (t) => {
  const folder = join(workspace(t), 'objects');
  mkdirSync(folder);
  const bytes = pngDeclaring(20000, 20000);
  assert.ok(bytes.length < 100_000);
  assert.deepEqual(pngDimensions(bytes), { width: 20000, height: 20000 });
  writeFileSync(join(folder, '1.png'), bytes);
  const before = process.memoryUsage().arrayBuffers;
  assert.throws(() => loadPngFolder(folder), (error: unknown) => {
    assert.ok(error instanceof ObjectSetError);
    assert.match(error.message, /1\.png is 20000 x 20000 pixels: objects must be 32 x 32/);
    return true;
  });
  assert.ok(process.memoryUsage().arrayBuffers - before < 100 * 1024 * 1024, 'nothing the size of the image was allocated');

  // A real 32 x 32 image still loads.
  const good = join(workspace(t), 'good');
  mkdirSync(good);
  const png = new PNG({ width: 32, height: 32 });
  png.data.fill(255);
  writeFileSync(join(good, '1.png'), PNG.sync.write(png));
  assert.equal(loadPngFolder(good).count, 1);
});

test('object images and data files must be regular files of bounded size: not /dev/zero, a FIFO or a folder', (t) => {
  const dir = workspace(t);
  const folder = join(dir, 'objects');
  mkdirSync(folder);
  symlinkSync('/dev/zero', join(folder, '1.png'));
  assert.throws(() => loadPngFolder(folder), /1\.png is not a regular file \(a device, pipe or socket\)/);

  assert.throws(() => readUserFile('/dev/zero', 'data file', INPUT_LIMITS.jsonInputBytes), (error: unknown) => {
    assert.ok(error instanceof InputFileError);
    assert.equal(error.reason, 'is not a regular file (a device, pipe or socket)');
    return true;
  });
  assert.throws(() => readUserFile(dir, 'data file', 100), /is a folder, not a file/);
  const fifo = join(dir, 'pipe');
  execFileSync('mkfifo', [fifo]);
  assert.throws(() => readUserFile(fifo, 'data file', 100), /is not a regular file/, 'refused without waiting for a writer');
  const big = join(dir, 'big.json');
  writeFileSync(big, Buffer.alloc(101));
  assert.throws(() => readUserFile(big, 'data file', 100), /is 101 bytes, more than the 100 bytes allowed/);
  writeFileSync(big, '{"x": 1}');
  assert.equal(readUserFile(big, 'data file', 100).toString(), '{"x": 1}');
});
