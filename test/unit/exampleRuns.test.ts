// The example runs shipped in the VSIX (example-runs/, trained by scripts/example-runs.mjs and
// opened by "Model Lab: Open Example Run"): one per lab, small, readable by the current reader
// (records, metrics, checkpoints with their checksums), and each meets its lab's "has learned" rule.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { LABS, labOf } from '../../src/core/labList';
import { lastValues } from '../../src/core/learnedNote';
import { copyExampleRun, listExampleRuns } from '../../src/host/runs/exampleRuns';
import { runTooltipLines } from '../../src/host/runs/runsTreeModel';
import { continueTraining } from '../../src/host/training/continueTraining';
import type { RunSummary } from '../../src/protocol';
import { listCheckpointSteps, loadCheckpoint } from '../../src/runs/checkpoints';
import { listRuns, readMetrics, readRun, readRunRecord, readSpec } from '../../src/runs/reader';

const EXAMPLES = join(__dirname, '..', '..', 'example-runs');
/** The budget for everything the example runs add to the VSIX. */
const MAX_BYTES = 2 * 1024 * 1024;

function bytesUnder(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((sum, entry) => {
    const path = join(dir, entry.name);
    return sum + (entry.isDirectory() ? bytesUnder(path) : statSync(path).size);
  }, 0);
}

test('example runs: at most 2 MB in all, one completed run per lab, nothing but run folders', () => {
  const bytes = bytesUnder(EXAMPLES);
  assert.ok(bytes <= MAX_BYTES, `example-runs/ holds ${(bytes / 1024 / 1024).toFixed(2)} MB, more than 2 MB`);
  const runs = listRuns(EXAMPLES);
  assert.deepEqual(readdirSync(EXAMPLES).sort(), runs.map((run) => run.id).sort(), 'every entry is a readable run folder');
  for (const run of runs) {
    assert.equal(run.state, 'completed', `${run.id}: ${run.error ?? run.state}`);
    assert.equal(run.step, run.totalSteps, run.id);
    assert.deepEqual(readdirSync(run.dir).filter((name) => name.startsWith('.') || name === 'owner.lock'), [], `${run.id}: no lock or temp left`);
  }
  const labs = runs.map((run) => labOf(readSpec(run.dir))?.id).sort();
  assert.deepEqual(labs, LABS.map((lab) => lab.id).sort(), 'one example per lab');
});

test("example runs: each meets its lab's has-learned rule on its final metrics", () => {
  for (const run of listRuns(EXAMPLES)) {
    const lab = labOf(readSpec(run.dir))!;
    const { verdict, reason } = lab.hasLearned(lastValues(readMetrics(run.dir).records));
    assert.equal(verdict, 'learned', `${lab.id} example ${run.id}: ${reason}`);
  }
});

test('example runs: every checkpoint loads with its checksums', async () => {
  for (const run of listRuns(EXAMPLES)) {
    const steps = listCheckpointSteps(run.dir);
    assert.ok(steps.includes(run.totalSteps), `${run.id}: a checkpoint at its last step (${steps.join(', ')})`);
    for (const step of steps) {
      const checkpoint = await loadCheckpoint(run.dir, step);
      assert.equal(checkpoint.step, step);
      assert.ok(checkpoint.weights.length > 0, `${run.id} step ${step}: weights`);
      for (const { tensor } of [...checkpoint.weights, ...checkpoint.optimizer]) tensor.dispose();
    }
  }
});

test('Open Example Run: lists one example per lab in the labs\' order, copies it whole into a runs folder once, then reuses the copy', () => {
  const examples = listExampleRuns(EXAMPLES);
  assert.deepEqual(examples.map((e) => e.lab.id), LABS.map((lab) => lab.id));
  assert.ok(examples.every((e) => e.description.startsWith('Example run: ')));
  const runsDir = join(mkdtempSync(join(tmpdir(), 'model-lab-examples-')), '.model-lab', 'runs');
  try {
    const first = copyExampleRun(examples[0].run.dir, runsDir);
    assert.equal(first.copied, true);
    assert.deepEqual(listRuns(runsDir).map((run) => [run.id, run.state]), [[examples[0].run.id, 'completed']]);
    assert.deepEqual(readdirSync(runsDir), [examples[0].run.id], 'no temp folder left');
    writeFileSync(join(first.runDir, 'run.json'), readFileSync(join(first.runDir, 'run.json'), 'utf8').replace('"notes": ""', '"notes": "mine"'));
    const again = copyExampleRun(examples[0].run.dir, runsDir);
    assert.deepEqual(again, { runDir: first.runDir, copied: false });
    assert.equal(listRuns(runsDir)[0].notes, 'mine', 'an earlier copy is kept as the user left it');
  } finally {
    rmSync(dirname(dirname(runsDir)), { recursive: true, force: true });
  }
});

test('Open Example Run: the copy names no experiment file (the example\'s was a temp file where it was trained); Continue Training on it writes example-<lab>-continued.lab.json in the workspace folder', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'model-lab-example-continue-'));
  const runsDir = join(folder, '.model-lab', 'runs');
  try {
    for (const example of listExampleRuns(EXAMPLES)) {
      const { runDir } = copyExampleRun(example.run.dir, runsDir);
      assert.equal(readRunRecord(runDir).specFile, undefined, `${example.lab.id}: run.json of the copy`);
      const copy = readRun(runDir);
      assert.deepEqual(runTooltipLines(copy).filter((line) => line.startsWith('Spec:')), [], `${example.lab.id}: no Spec line in the Runs view`);

      const runs: RunSummary[] = listRuns(runsDir);
      const trained: string[] = [];
      const continued = await continueTraining({
        runs: { listRuns: () => runs, readRun: (id) => runs.find((run) => run.id === id), readSpec: (id) => readSpec(join(runsDir, id)) },
        folderOf: () => folder,
        askSteps: async (_run, suggested) => suggested,
        train: async (file) => {
          trained.push(file);
          runs.push({ ...copy, id: `continued-${example.lab.id}`, specFile: file, state: 'queued' });
        },
      }, copy.id);
      const file = join(folder, `example-${example.lab.id}-continued.lab.json`);
      assert.deepEqual(trained, [file], example.lab.id);
      assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')).init, { run: copy.id, step: copy.totalSteps }, `${example.lab.id}: from the example's last checkpoint`);
      assert.equal(continued?.run.id, `continued-${example.lab.id}`);
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
