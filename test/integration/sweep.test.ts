/**
 * `model-lab sweep` from the CLI bundle (dist/cli.js): a 2 x 2 grid of tiny relational runs,
 * the sweep folder and its member runs, located errors for a bad grid value, and one
 * interrupted member resumed on its own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const cli = join(root, 'dist', 'cli.js');
const env = { ...process.env, MODEL_LAB_BACKEND: 'wasm' };

function modelLab(args: string[], cwd: string) {
  const result = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', env });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function writeSweep(dir: string, training: Record<string, number>, grid: Record<string, unknown[]>): string {
  const file = join(dir, 'tiny.lab.json');
  const sweep = {
    formatVersion: 1,
    kind: 'sweep',
    name: 'tiny',
    base: {
      task: { name: 'same-diff', m: 0 },
      model: { name: 'corelnet' },
      objective: { name: 'cross-entropy' },
      training: { batchSize: 4, evalBatches: 1, logEvery: 2, ...training },
    },
    grid,
  };
  writeFileSync(file, JSON.stringify(sweep, null, 2));
  return file;
}

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
const GRID = { '/model/name': ['corelnet', 'relational-lstm'], '/task/m': [0, 95] };

test('a 2 x 2 sweep trains every member as an ordinary run and records them in the sweep folder', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'model-lab-sweep-'));
  const file = writeSweep(cwd, { steps: 4, evalEvery: 2, checkpointEvery: 2 }, GRID);
  const { code, stdout, stderr } = modelLab(['sweep', file, '--out', join(cwd, 'runs')], cwd);
  assert.equal(code, 0, stderr);
  const sweepDir = stdout.trim().split('\n').pop()!;
  assert.match(sweepDir, /[\\/]runs[\\/]\d{8}-\d{6}-tiny$/);

  const record = readJson(join(sweepDir, 'sweep.json'));
  assert.deepEqual(record.members.map((m: { label: string }) => m.label), ['corelnet.m0', 'corelnet.m95', 'relational-lstm.m0', 'relational-lstm.m95']);
  for (const member of record.members) {
    const runDir = join(cwd, 'runs', member.runId);
    assert.equal(readJson(join(runDir, 'status.json')).state, 'completed', member.runId);
    const spec = readJson(join(runDir, 'spec.json'));
    assert.equal(spec.name, `tiny.${member.label}`);
    assert.equal(spec.task.m, member.point['/task/m']);
    assert.equal(spec.model.name, member.point['/model/name']);
    const metrics = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8');
    assert.match(metrics, /eval\/test\/accuracy/);
    // Progress is reported per member on stderr.
    assert.match(stderr, new RegExp(`\\[${member.index + 1}/4 ${member.label.replace('.', '\\.')}\\] completed`));
  }

  // Members are runs; the sweep folder itself is not listed as one.
  const list = modelLab(['list', '--out', join(cwd, 'runs')], cwd);
  assert.equal(list.code, 0, list.stderr);
  const lines = list.stdout.trim().split('\n');
  assert.equal(lines.length, 4);
  assert.ok(lines.every((line) => /\tcompleted\t4\/4\ttiny\./.test(line)), list.stdout);

  // `show` on the sweep (by id, as `list` users type it): each member's reported metric, and over seeds.
  const sweepId = sweepDir.split(/[\\/]/).pop()!;
  const shown = modelLab(['show', sweepId, '--out', join(cwd, 'runs')], cwd);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /^tiny {2}\(sweep, 4 members: 4 completed\)\nreport {5}eval\/test\/accuracy, last logged value/);
  const lastAccuracy = (runId: string) =>
    readFileSync(join(cwd, 'runs', runId, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
      .filter((r) => 'eval/test/accuracy' in r.values).pop().values['eval/test/accuracy'] as number;
  for (const member of record.members) {
    assert.match(shown.stdout, new RegExp(`\\n${member.label.replace('.', '\\.')} +completed +4/4 +${lastAccuracy(member.runId).toFixed(4)}\\n`));
  }
  const json = JSON.parse(modelLab(['show', sweepDir, '--json'], cwd).stdout);
  assert.deepEqual(json.members.map((m: { value: number }) => m.value), record.members.map((m: { runId: string }) => lastAccuracy(m.runId)));
  assert.equal(json.cells.length, 4, 'no seed key: one cell per member');

  // --steps overrides every member.
  const short = modelLab(['sweep', file, '--out', join(cwd, 'short'), '--steps', '2'], cwd);
  assert.equal(short.code, 0, short.stderr);
  const shortRecord = readJson(join(short.stdout.trim().split('\n').pop()!, 'sweep.json'));
  assert.equal(shortRecord.stepsOverride, 2);
  assert.equal(readJson(join(cwd, 'short', shortRecord.members[0].runId, 'status.json')).step, 2);
});

test('an invalid grid value is a located error naming the members, and nothing is created', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'model-lab-sweep-'));
  const file = writeSweep(cwd, { steps: 4 }, { '/task/name': ['same-diff', 'rmts'], '/task/m': [0, 98] });
  const { code, stderr } = modelLab(['sweep', file, '--out', join(cwd, 'runs')], cwd);
  assert.equal(code, 2, stderr);
  assert.match(stderr, /tiny\.lab\.json:\d+:\d+: \/grid\/~1task~1m\/1: member rmts\.m98: must be an integer >= 0 and <= 95, got 98/);
  assert.doesNotMatch(stderr, /at .*\.js:\d+/, 'no stack trace');
  assert.equal(existsSync(join(cwd, 'runs')), false, 'no run folder for an invalid sweep');

  const train = modelLab(['train', file], cwd);
  assert.equal(train.code, 2);
  assert.match(train.stderr, /\/kind: this file is a sweep .*model-lab sweep/);
});

test('a member interrupted mid-way resumes alone to completion', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'model-lab-sweep-'));
  const file = writeSweep(cwd, { steps: 30, evalEvery: 10, checkpointEvery: 5 }, { '/task/m': [0, 95] });
  const runsDir = join(cwd, 'runs');
  // Kill -9 the CLI (and its worker) while the first member trains past a checkpoint.
  const child = spawn(process.execPath, [cli, 'sweep', file, '--out', runsDir], { cwd, env });
  let stderr = '';
  await new Promise<void>((resolve) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (/\[1\/2 m0\] step (1[2-9]|2\d)\//.test(stderr)) child.kill('SIGKILL');
    });
    child.on('exit', () => resolve());
  });
  const sweepDir = /members queued \((.*)\)/.exec(stderr)?.[1];
  assert.ok(sweepDir, stderr);
  const record = readJson(join(sweepDir, 'sweep.json'));
  const [first, second] = record.members.map((m: { runId: string }) => join(runsDir, m.runId));

  const shown = JSON.parse(modelLab(['show', first, '--json'], cwd).stdout);
  assert.equal(shown.run.state, 'interrupted');
  assert.ok(shown.checkpoints.length > 0);
  // The second member never started: its owner is gone, so it is interrupted too (resumable).
  assert.equal(JSON.parse(modelLab(['show', second, '--json'], cwd).stdout).run.state, 'interrupted');

  const resumed = modelLab(['resume', first], cwd);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(readJson(join(first, 'status.json')).state, 'completed');
  assert.equal(readJson(join(first, 'status.json')).step, 30);
  assert.notEqual(JSON.parse(modelLab(['show', second, '--json'], cwd).stdout).run.state, 'completed', 'only that member was resumed');
});
