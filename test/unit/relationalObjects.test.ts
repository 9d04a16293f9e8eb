import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { MIN_GLYPH_DISTANCE, proceduralGlyphs } from '../../src/core/relational/glyphs';
import { minimumPairwiseDistance, objectPixels, OBJECT_PIXELS } from '../../src/core/relational/objectSet';
import { loadPngFolder, ObjectSetError } from '../../src/core/relational/pngFolder';

const ORIGINAL_GLYPHS = join(__dirname, '../../../shared/data/esbn-glyphs');

test('procedural glyphs: 100 distinct glyphs, no two closer than the stated distance', () => {
  const glyphs = proceduralGlyphs(0);
  assert.equal(glyphs.count, 100);
  assert.equal(glyphs.pixels.length, 100 * OBJECT_PIXELS);
  assert.ok(glyphs.pixels.every((v) => v >= 0 && v <= 1), 'intensities in [0, 1]');
  const closest = minimumPairwiseDistance(glyphs);
  assert.ok(closest >= MIN_GLYPH_DISTANCE, `closest pair at ${closest}, stated minimum ${MIN_GLYPH_DISTANCE}`);
  for (let i = 0; i < glyphs.count; i++) {
    const ink = objectPixels(glyphs, i).reduce((sum, v) => sum + (1 - v), 0);
    assert.ok(ink > 20 && ink < 600, `glyph ${i} has visible ink but is not a blot (${ink})`);
  }
});

test('procedural glyphs are a function of the seed', () => {
  assert.deepEqual(proceduralGlyphs(3, 10).pixels, proceduralGlyphs(3, 10).pixels);
  assert.notDeepEqual(proceduralGlyphs(3, 10).pixels, proceduralGlyphs(4, 10).pixels);
});

function writePng(file: string, width: number, height: number, grey: (k: number) => number): void {
  const png = new PNG({ width, height });
  for (let k = 0; k < width * height; k++) png.data.set([grey(k), grey(k), grey(k), 255], 4 * k);
  writeFileSync(file, PNG.sync.write(png));
}

test('a PNG folder loads in natural file order as greyscale in [0, 1]', (t) => {
  const folder = mkdtempSync(join(tmpdir(), 'relational-png-'));
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  // Object i has every pixel at 10 * i: the order of the set is then visible in its values.
  for (const i of [0, 1, 2, 10]) writePng(join(folder, `${i}.png`), 32, 32, () => 10 * i);
  writeFileSync(join(folder, 'notes.txt'), 'not an image');
  const set = loadPngFolder(folder);
  assert.equal(set.count, 4);
  assert.deepEqual([0, 1, 2, 3].map((i) => objectPixels(set, i)[5]), [0, 10, 20, 100].map((v) => Math.fround(v / 255)));
});

test('a PNG folder with a wrong-sized image, no images or a relative path is refused with a clear error', (t) => {
  const folder = mkdtempSync(join(tmpdir(), 'relational-png-'));
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  assert.throws(() => loadPngFolder(folder), /holds no \.png images/);
  writePng(join(folder, 'big.png'), 64, 32, () => 0);
  assert.throws(() => loadPngFolder(folder), (e: Error) => e instanceof ObjectSetError && /big\.png is 64 x 32 pixels/.test(e.message));
  assert.throws(() => loadPngFolder('relative/glyphs'), /must be an absolute path/);
  assert.throws(() => loadPngFolder(join(folder, 'missing')), /cannot read objectSet\.folder/);
});

test('the original ESBN glyphs load (when the shared data folder is present)', { skip: !existsSync(ORIGINAL_GLYPHS) }, () => {
  const set = loadPngFolder(ORIGINAL_GLYPHS);
  assert.equal(set.count, 100);
  // They are white paper with dark ink and distinct (4.25 apart at the closest).
  assert.ok(minimumPairwiseDistance(set) > 4);
  assert.equal(objectPixels(set, 0)[0], 1);
});
