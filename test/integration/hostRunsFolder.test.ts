import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  allRunsDirs,
  checkWritableFolder,
  folderOf,
  isInside,
  resolveRunsFolder,
  type WorkspaceFolderInfo,
} from '../../src/host/runs/runsFolder';

const root = path.resolve('/ws');
const folder = (name: string, runsDirectory = '.model-lab/runs', at = path.join(root, name)): WorkspaceFolderInfo => ({
  path: at,
  name,
  runsDirectory,
});

test('isInside is segment-aware, not a string prefix test', () => {
  assert.equal(isInside(path.join(root, 'app'), path.join(root, 'app', 'x.lab.json')), true);
  assert.equal(isInside(path.join(root, 'app'), path.join(root, 'app')), true);
  assert.equal(isInside(path.join(root, 'app'), path.join(root, 'app-2', 'x.lab.json')), false);
  assert.equal(isInside(path.join(root, 'app'), path.join(root, 'app', '..', 'other', 'x.lab.json')), false);
});

test('multi-root: the spec trains into the runs folder of its own workspace folder', () => {
  const folders = [folder('a'), folder('b', 'experiments/runs')];
  const inB = resolveRunsFolder(path.join(root, 'b', 'sub', 'x.lab.json'), folders);
  assert.deepEqual(inB, { ok: true, runsDir: path.join(root, 'b', 'experiments', 'runs'), folder: folders[1] });
  const inA = resolveRunsFolder(path.join(root, 'a', 'x.lab.json'), folders);
  assert.equal(inA.ok && inA.runsDir, path.join(root, 'a', '.model-lab', 'runs'));
});

test('nested workspace folders: the innermost folder wins', () => {
  const outer = folder('outer');
  const inner = folder('inner', 'runs', path.join(root, 'outer', 'inner'));
  assert.equal(folderOf(path.join(root, 'outer', 'inner', 'x.lab.json'), [outer, inner]), inner);
  assert.equal(folderOf(path.join(root, 'outer', 'x.lab.json'), [inner, outer]), outer);
});

test('an absolute runsDirectory is used as is', () => {
  const shared = path.resolve('/data/runs');
  const result = resolveRunsFolder(path.join(root, 'a', 'x.lab.json'), [folder('a', shared)]);
  assert.equal(result.ok && result.runsDir, shared);
});

test('no workspace: a clear message asking to open a folder', () => {
  const result = resolveRunsFolder(path.join(root, 'x.lab.json'), []);
  assert.equal(result.ok, false);
  assert.equal(!result.ok && result.reason, 'no-workspace');
  assert.match(!result.ok ? result.message : '', /^Open a folder first/);
});

test('a spec outside every workspace folder is named in the message', () => {
  const result = resolveRunsFolder(path.resolve('/elsewhere/try.lab.json'), [folder('a'), folder('b')]);
  assert.equal(!result.ok && result.reason, 'outside-workspace');
  assert.match(!result.ok ? result.message : '', /try\.lab\.json is outside.*a or b/);
});

test('allRunsDirs lists each runs folder once', () => {
  const shared = path.resolve('/data/runs');
  assert.deepEqual(allRunsDirs([folder('a'), folder('b', shared), folder('c', shared)]), [
    path.join(root, 'a', '.model-lab', 'runs'),
    shared,
  ]);
});

test('checkWritableFolder creates the folder, and names it when a file is in the way', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'host-runs-folder-'));
  try {
    const runs = path.join(tmp, 'ws', '.model-lab', 'runs');
    assert.equal(checkWritableFolder(runs), undefined);
    assert.equal(fs.statSync(runs).isDirectory(), true);

    const blocker = path.join(tmp, 'blocked');
    fs.writeFileSync(blocker, 'not a folder');
    const problem = checkWritableFolder(path.join(blocker, 'runs'));
    assert.ok(problem);
    assert.ok(problem.includes(path.join(blocker, 'runs')), problem);
    assert.match(problem, /modelLab\.runsDirectory/);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
