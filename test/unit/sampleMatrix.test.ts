import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import { sampleColumn, sampleMatrix, sampleRows, type SampleMatrix } from '../../src/shared/sampleMatrix';

test('sampleMatrix: rows in, row-major float32 out; columns and rows read it back', () => {
  const rows = [[1, 2, 3], [4, 5, 6]];
  const m = sampleMatrix(rows, 3);
  assert.equal(m.count, 2);
  assert.equal(m.dim, 3);
  assert.deepEqual(Array.from(m.values), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(Array.from(sampleColumn(m, 1)), [2, 5]);
  assert.deepEqual(sampleRows(m), rows);
  assert.deepEqual(sampleRows(m, 2), [[1, 2], [4, 5]], 'the first dims coordinates');
  assert.equal(sampleMatrix([], 4).count, 0);
});

test('sampleMatrix: a draw of the wrong length is an error, not a shifted matrix', () => {
  assert.throws(() => sampleMatrix([[1, 2], [3]], 2), /draw 1 has 1 coordinates, expected 2/);
});

test('sampleMatrix: survives a structured clone (worker and webview messages) as a Float32Array', async () => {
  const m = sampleMatrix([[0.5, -1], [2, 3]], 2);
  const { port1, port2 } = new MessageChannel();
  const received = new Promise<{ result: { samples: SampleMatrix } }>((resolve) => port2.once('message', resolve));
  port1.postMessage({ result: { samples: m } });
  const copy = (await received).result.samples;
  port1.close();
  assert.ok(copy.values instanceof Float32Array);
  assert.deepEqual(sampleRows(copy), sampleRows(m));
});
