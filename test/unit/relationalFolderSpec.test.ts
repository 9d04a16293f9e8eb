/**
 * An experiment's folder of object images: a relative path is resolved against the experiment
 * file (and recorded absolute), and a folder that cannot be used is a located problem of the file,
 * found before any run starts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import '../../src/core/labs';
import { SpecError } from '../../src/core/spec/types';
import { loadSpecFile, loadSweepFile } from '../../src/core/spec/validate';

function writeGlyphs(folder: string, count: number, size = 32): void {
  mkdirSync(folder, { recursive: true });
  for (let i = 0; i < count; i++) {
    const png = new PNG({ width: size, height: size });
    for (let k = 0; k < size * size; k++) png.data.set([(i * 7 + k) % 256, (i * 7 + k) % 256, (i * 7 + k) % 256, 255], 4 * k);
    writeFileSync(join(folder, `${i}.png`), PNG.sync.write(png));
  }
}

function experiment(objectSet: unknown, m = 0): string {
  return JSON.stringify(
    {
      formatVersion: 1,
      kind: 'train',
      name: 'folder-objects',
      task: { name: 'same-diff', m, objectSet },
      model: { name: 'corelnet' },
      objective: { name: 'cross-entropy' },
    },
    null,
    2,
  );
}

function workspace(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'relational-folder-spec-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function problemsOf(load: () => unknown): SpecError['problems'] {
  try {
    load();
  } catch (error) {
    if (error instanceof SpecError) return error.problems;
    throw error;
  }
  assert.fail('expected the file to be refused');
}

test('a relative objectSet.folder is resolved against the experiment file and recorded absolute', (t) => {
  const dir = workspace(t);
  writeGlyphs(join(dir, 'experiments', 'glyphs'), 10);
  const file = join(dir, 'experiments', 'folder.lab.json');
  writeFileSync(file, experiment({ folder: 'glyphs' }, 4));
  const spec = loadSpecFile(file);
  assert.deepEqual({ ...(spec.task.objectSet as object) }, { folder: join(dir, 'experiments', 'glyphs') });
  // An absolute path stays as written.
  writeFileSync(file, experiment({ folder: join(dir, 'experiments', 'glyphs') }));
  assert.deepEqual({ ...(loadSpecFile(file).task.objectSet as object) }, { folder: join(dir, 'experiments', 'glyphs') });
});

test('a missing folder, a folder without images and a wrong-sized image are located at the folder field', (t) => {
  const dir = workspace(t);
  const file = join(dir, 'folder.lab.json');
  writeFileSync(file, experiment({ folder: 'missing' }));
  const [missing] = problemsOf(() => loadSpecFile(file));
  assert.equal(missing.path, '/task/objectSet/folder');
  assert.match(missing.message, /cannot read objectSet\.folder '.*missing'/);
  assert.equal(missing.line, 9, 'points at the line of the folder value');

  mkdirSync(join(dir, 'empty'));
  writeFileSync(file, experiment({ folder: 'empty' }));
  assert.match(problemsOf(() => loadSpecFile(file))[0].message, /holds no \.png images/);

  writeGlyphs(join(dir, 'big'), 3, 64);
  writeFileSync(file, experiment({ folder: 'big' }));
  assert.match(problemsOf(() => loadSpecFile(file))[0].message, /0\.png is 64 x 64 pixels: objects must be 32 x 32/);
});

test("m is checked against the number of images the folder holds", (t) => {
  const dir = workspace(t);
  writeGlyphs(join(dir, 'glyphs'), 5);
  const file = join(dir, 'folder.lab.json');
  writeFileSync(file, experiment({ folder: 'glyphs' }, 4));
  const [problem] = problemsOf(() => loadSpecFile(file));
  assert.equal(problem.path, '/task/m');
  assert.match(problem.message, /leaves 1 of the folder's 5 objects for training: same_diff needs 2 distinct objects \(expected m at most 3\)/);
});

test('in a sweep, a relative folder is resolved against the sweep file, and a bad one names the members', (t) => {
  const dir = workspace(t);
  writeGlyphs(join(dir, 'sweeps', 'glyphs'), 10);
  const sweepFile = join(dir, 'sweeps', 'objects.lab.json');
  const sweep = (folders: string[]) =>
    JSON.stringify({
      formatVersion: 1,
      kind: 'sweep',
      name: 'objects',
      base: JSON.parse(experiment('procedural')),
      grid: { '/task/objectSet': folders.map((folder) => ({ folder })), '/seed': [0, 1] },
    });
  writeFileSync(sweepFile, sweep(['glyphs']));
  const { members } = loadSweepFile(sweepFile);
  assert.equal(members.length, 2);
  for (const member of members) assert.deepEqual({ ...(member.spec.task.objectSet as object) }, { folder: join(dir, 'sweeps', 'glyphs') });

  writeFileSync(sweepFile, sweep(['glyphs', 'nowhere']));
  const problems = problemsOf(() => loadSweepFile(sweepFile));
  assert.equal(problems.length, 1);
  assert.equal(problems[0].path, '/grid/~1task~1objectSet/1');
  assert.match(problems[0].message, /^members .*s0, .*s1: \/task\/objectSet\/folder: cannot read objectSet\.folder '.*nowhere'/);
});
