import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dataStreamDifferences } from '../../src/host/training/attentionDataStream';
import { loadSpecFile } from '../../src/core/spec/validate';
import { retrievalSpec } from '../helpers/specs';

const folder = path.join(__dirname, '..', '..', 'examples', 'compare-attention');

test('the compare-attention examples see the same data stream and differ in their model', () => {
  const files = fs.readdirSync(folder).filter((name) => name.endsWith('.lab.json')).sort();
  assert.ok(files.length >= 2, `at least two experiments in ${folder}`);
  const specs = files.map((file) => ({ file, spec: loadSpecFile(path.join(folder, file)) }));
  assert.deepEqual(dataStreamDifferences(specs), []);
  assert.deepEqual(specs.map(({ spec }) => spec.model.name).sort(), ['compositional-attention', 'multi-head-attention']);
});

test('a different seed, task option or batch size is named with each file\'s value', () => {
  const a = { file: 'a.lab.json', spec: retrievalSpec() };
  const b = { file: 'b.lab.json', spec: retrievalSpec({ seed: 3, task: { split: 'iid' }, training: { batchSize: 8 } }) };
  const lines = dataStreamDifferences([a, b]);
  assert.equal(lines.length, 3);
  assert.equal(lines[0], 'seed: 0 in a.lab.json, 3 in b.lab.json');
  assert.match(lines[1], /^task: .*"split":"ood".* in a\.lab\.json, .*"split":"iid".* in b\.lab\.json$/);
  assert.equal(lines[2], 'training.batchSize: 16 in a.lab.json, 8 in b.lab.json');
});

test('option order and the model do not count as differences', () => {
  const spec = retrievalSpec();
  const reordered = { ...spec, task: Object.fromEntries(Object.entries(spec.task).reverse()) as typeof spec.task };
  const other = retrievalSpec({ model: { name: 'compositional-attention', dim: 16, searches: 2, retrievals: 4 } });
  assert.deepEqual(dataStreamDifferences([{ file: 'a', spec }, { file: 'b', spec: reordered }, { file: 'c', spec: other }]), []);
});
