/**
 * The CLI bundle (dist/cli.js, built by `npm test` before the tests) driven as a user would:
 * real worker thread, real run folders, exit codes and messages.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { processStartTime } from '../../src/runs/liveness';

const root = join(__dirname, '..', '..');
const cli = join(root, 'dist', 'cli.js');
const fixture = (name: string) => join(root, 'test', 'fixtures', name);

function modelLab(args: string[], cwd: string) {
  const result = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', env: { ...process.env, MODEL_LAB_BACKEND: 'wasm' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const workdir = () => mkdtempSync(join(tmpdir(), 'model-lab-cli-'));
const metricLines = (runDir: string) => readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const lossValues = (runDir: string) =>
  metricLines(runDir).map((r: { step: number; values: Record<string, number> }) => [r.step, r.values]);

test('training the first experiment lowers the L1 loss (seed 1, 300 steps)', () => {
  const cwd = workdir();
  const { code, stdout, stderr } = modelLab(['train', fixture('loss-drop.lab.json')], cwd);
  assert.equal(code, 0, stderr);
  const runDir = stdout.trim().split('\n').pop()!;
  assert.ok(runDir.startsWith(join(cwd, '.model-lab', 'runs')), 'default runs folder is ./.model-lab/runs');
  const losses = metricLines(runDir)
    .filter((r: { values: Record<string, number> }) => 'train/loss' in r.values)
    .map((r: { step: number; values: Record<string, number> }) => [r.step, r.values['train/loss']] as const);
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const first = mean(losses.filter(([step]) => step <= 50).map(([, v]) => v));
  const last = mean(losses.filter(([step]) => step > 250).map(([, v]) => v));
  // Calibrated once on the wasm backend (ratio 0.36 for seed 1); the bar is 0.8 and stays there.
  assert.ok(last <= 0.8 * first, `mean L1 of the last 50 steps ${last} vs first 50 ${first}`);
  const status = JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8'));
  assert.equal(status.state, 'completed');
  const spec = JSON.parse(readFileSync(join(runDir, 'spec.json'), 'utf8'));
  assert.equal(spec.training.optimizer, 'adam', 'omitted fields are recorded with their defaults');
  const environment = JSON.parse(readFileSync(join(runDir, 'environment.json'), 'utf8'));
  assert.equal(environment.backend.name, 'wasm');
  assert.equal(environment.workers, 1);
  // The build puts the committed kernels into dist/ even without a compiler: all seven run, and say so.
  assert.equal(environment.backend.kernels.filter((kernel: { active: boolean }) => kernel.active).length, 7, JSON.stringify(environment.backend.kernels));
  assert.match(stderr, /^backend wasm, kernels: 7 of 7$/m);

  const list = modelLab(['list'], cwd);
  assert.equal(list.code, 0);
  assert.match(list.stdout, /completed\t300\/300\tloss-drop/);
  const show = modelLab(['show', runDir, '--json'], cwd);
  assert.equal(JSON.parse(show.stdout).run.state, 'completed');
  assert.match(modelLab(['show', runDir], cwd).stdout, /^backend {4}wasm, kernels: 7 of 7$/m);
});

test('a run killed mid-way shows as interrupted and resumes to the uninterrupted result', async () => {
  const cwd = workdir();
  const spec = join(cwd, 'resume.lab.json');
  const base = JSON.parse(readFileSync(fixture('loss-drop.lab.json'), 'utf8'));
  base.training = { ...base.training, steps: 120, checkpointEvery: 20, evalEvery: 40 };
  writeFileSync(spec, JSON.stringify(base));

  const reference = modelLab(['train', spec, '--out', join(cwd, 'reference')], cwd);
  assert.equal(reference.code, 0, reference.stderr);
  const referenceDir = reference.stdout.trim().split('\n').pop()!;

  // Kill -9 the whole CLI (and so its worker) once it has passed the step-40 checkpoint.
  const child = spawn(process.execPath, [cli, 'train', spec, '--out', join(cwd, 'killed')], {
    cwd,
    env: { ...process.env, MODEL_LAB_BACKEND: 'wasm' },
  });
  await new Promise<void>((resolve) => {
    child.stderr.on('data', (chunk: Buffer) => {
      if (/step (5\d|6\d|7\d)\//.test(chunk.toString())) child.kill('SIGKILL');
    });
    child.on('exit', () => resolve());
  });
  const killedDir = join(cwd, 'killed', readdirSync(join(cwd, 'killed')).find((n) => !n.startsWith('.'))!);
  const shown = JSON.parse(modelLab(['show', killedDir, '--json'], cwd).stdout);
  assert.equal(shown.run.state, 'interrupted');
  assert.ok(shown.checkpoints.includes(40));

  const resumed = modelLab(['resume', killedDir], cwd);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.deepEqual(lossValues(killedDir), lossValues(referenceDir));
});

test('bad input: located messages, exit 2, nothing half-written', () => {
  const cwd = workdir();
  const broken = modelLab(['train', join(root, 'examples', 'broken.lab.json')], cwd);
  assert.equal(broken.code, 2);
  assert.match(broken.stderr, /broken\.lab\.json:\d+:\d+: \/\S+: /);
  assert.doesNotMatch(broken.stderr, /\n\s+at /, 'no stack trace');

  const steps = modelLab(['train', fixture('loss-drop.lab.json'), '--steps', '0'], cwd);
  assert.equal(steps.code, 2);
  assert.match(steps.stderr, /--steps must be an integer >= 1, got '0'/);

  const missing = modelLab(['train', join(cwd, 'nope.lab.json')], cwd);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nope\.lab\.json/);

  writeFileSync(join(cwd, 'a-file'), '');
  const unwritable = modelLab(['train', fixture('loss-drop.lab.json'), '--out', join(cwd, 'a-file', 'runs')], cwd);
  assert.equal(unwritable.code, 2);
  assert.match(unwritable.stderr, /Cannot create a run in the folder/);

  const sameDiff = JSON.parse(readFileSync(join(root, 'examples', 'relational-same-diff-corelnet.lab.json'), 'utf8'));
  writeFileSync(join(cwd, 'no-glyphs.lab.json'), JSON.stringify({ ...sameDiff, task: { ...sameDiff.task, objectSet: { folder: 'glyphs' } } }, null, 2));
  const noGlyphs = modelLab(['train', join(cwd, 'no-glyphs.lab.json')], cwd);
  assert.equal(noGlyphs.code, 2, 'a folder of objects that is not there is bad input, not a failed run');
  assert.match(noGlyphs.stderr, /no-glyphs\.lab\.json:\d+:\d+: \/task\/objectSet\/folder: cannot read objectSet\.folder '.*glyphs'/);

  const unknown = modelLab(['show', join(cwd, 'no-such-run')], cwd);
  assert.equal(unknown.code, 2);
  assert.equal(modelLab(['frobnicate'], cwd).code, 2);
  assert.equal(modelLab(['--help'], cwd).code, 0);
  assert.ok(!readdirSync(cwd).includes('.model-lab'), 'no run folder was created by bad input');
});

test('templates and new: a template becomes a valid experiment file', () => {
  const cwd = workdir();
  const templates = modelLab(['templates'], cwd);
  assert.equal(templates.code, 0);
  const names = templates.stdout.trim().split('\n').map((line) => line.split('\t')[0]);
  assert.ok(names.includes('retrieval-mha'));
  const created = modelLab(['new', 'retrieval-mha', 'mine.lab.json'], cwd);
  assert.equal(created.code, 0, created.stderr);
  assert.equal(modelLab(['new', 'retrieval-mha', 'mine.lab.json'], cwd).code, 2, 'never overwrites');
  assert.equal(modelLab(['new', 'no-such-template', 'x.lab.json'], cwd).code, 2);
  const quick = modelLab(['train', 'mine.lab.json', '--steps', '3'], cwd);
  assert.equal(quick.code, 0, quick.stderr);
});

test('calibrate: rank histograms and coverage of a posterior run; bad input exits 2', () => {
  const cwd = workdir();
  const trained = modelLab(['train', join(root, 'examples', 'posterior-gaussian-mean-quick.lab.json'), '--steps', '20'], cwd);
  assert.equal(trained.code, 0, trained.stderr);
  const runDir = trained.stdout.trim().split('\n').pop()!;
  const result = modelLab(['calibrate', runDir, '--k', '40', '--l', '19', '--bins', '10', '--json'], cwd);
  assert.equal(result.code, 0, result.stderr);
  const calibration = JSON.parse(result.stdout);
  assert.equal(calibration.histogram.counts.length, 2, 'one histogram per parameter');
  for (const counts of calibration.histogram.counts) assert.equal(counts.reduce((s: number, c: number) => s + c, 0), 40);
  assert.deepEqual(calibration.coverage.levels.length, calibration.coverage.mean.length);
  const text = modelLab(['calibrate', runDir, '--k', '40', '--l', '19', '--bins', '10'], cwd);
  assert.equal(text.code, 0, text.stderr);
  assert.match(calibration.verdict.text, /^(No evidence against uniform ranks|The ranks are not uniform) at the 1% level/);
  assert.equal(text.stdout.trim().split('\n').pop(), calibration.verdict.text, "the CLI's last line is the panel's verdict");
  assert.equal(modelLab(['calibrate', runDir, '--l', '19', '--bins', '7'], cwd).code, 2);
  const notPosterior = modelLab(['calibrate', join(root, 'test', 'fixtures', 'trained-retrieval', 'multi-head-4000')], cwd);
  assert.equal(notPosterior.code, 2);
  assert.match(notPosterior.stderr, /is not a posterior run/);
});

// ---------------------------------------------------------------------------------------------
// One owner per run (issue 18): resume after kills and damage, and two processes on one run.

/** A copy of the loss-drop fixture with `training` overrides, written into `cwd`. */
function specWith(cwd: string, name: string, training: Record<string, number>): string {
  const file = join(cwd, `${name}.lab.json`);
  const base = JSON.parse(readFileSync(fixture('loss-drop.lab.json'), 'utf8'));
  writeFileSync(file, JSON.stringify({ ...base, training: { ...base.training, ...training } }));
  return file;
}

const stepsAndValues = (runDir: string) => metricLines(runDir).map((r: { step: number; values: Record<string, number> }) => [r.step, r.values]);

/** Start the CLI; `lines` gets every stderr line as it comes. */
function startModelLab(args: string[], cwd: string, onLine: (line: string) => void = () => undefined) {
  const child = spawn(process.execPath, [cli, ...args], { cwd, env: { ...process.env, MODEL_LAB_BACKEND: 'wasm' } });
  let stderr = '';
  let pending = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk;
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    lines.forEach(onLine);
  });
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
  return { child, exited };
}

/** Train `spec` into `out` and SIGKILL the CLI once a progress line at step >= `killAt` shows; the run folder. */
async function trainAndKill(spec: string, out: string, cwd: string, killAt: number): Promise<string> {
  const { child, exited } = startModelLab(['train', spec, '--out', out], cwd, (line) => {
    const step = /^step (\d+)\//.exec(line);
    if (step && Number(step[1]) >= killAt) child.kill('SIGKILL');
  });
  await exited;
  return join(out, readdirSync(out).find((n) => !n.startsWith('.'))!);
}

test('a run killed before its first checkpoint resumes from the start to the uninterrupted metrics', async () => {
  const cwd = workdir();
  const spec = specWith(cwd, 'no-checkpoint', { steps: 200, checkpointEvery: 200, logEvery: 10, evalEvery: 50 });
  const reference = modelLab(['train', spec, '--out', join(cwd, 'reference')], cwd);
  assert.equal(reference.code, 0, reference.stderr);

  const killedDir = await trainAndKill(spec, join(cwd, 'killed'), cwd, 30);
  const shown = JSON.parse(modelLab(['show', killedDir, '--json'], cwd).stdout);
  assert.equal(shown.run.state, 'interrupted');
  assert.deepEqual(shown.checkpoints, [], 'killed before its first checkpoint');
  assert.ok(metricLines(killedDir).length >= 3, 'the killed attempt logged records');

  const resumed = modelLab(['resume', killedDir], cwd);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /no checkpoint yet: the run starts again from step 0/);
  assert.deepEqual(stepsAndValues(killedDir), stepsAndValues(reference.stdout.trim().split('\n').pop()!));
});

test('a damaged newest checkpoint: resume warns, continues from the one before, metrics equal the uninterrupted run', async () => {
  const cwd = workdir();
  const spec = specWith(cwd, 'damaged', { steps: 120, checkpointEvery: 20, evalEvery: 40, keepCheckpoints: 5 });
  const reference = modelLab(['train', spec, '--out', join(cwd, 'reference')], cwd);
  assert.equal(reference.code, 0, reference.stderr);

  const killedDir = await trainAndKill(spec, join(cwd, 'killed'), cwd, 70);
  const checkpoints: number[] = JSON.parse(modelLab(['show', killedDir, '--json'], cwd).stdout).checkpoints;
  assert.ok(checkpoints.length >= 2, `checkpoints before the kill: ${checkpoints}`);
  const newest = checkpoints[checkpoints.length - 1];
  const previous = checkpoints[checkpoints.length - 2];
  const weights = join(killedDir, 'checkpoints', `step-${String(newest).padStart(8, '0')}`, 'weights.bin');
  const bytes = readFileSync(weights);
  bytes[100] ^= 0x01; // one flipped bit: still loads as numbers, only its hash tells
  writeFileSync(weights, bytes);

  const missing = modelLab(['resume', killedDir, '--step', '7'], cwd);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, new RegExp(`no checkpoint at step 7 \\(available: ${checkpoints.join(', ')}\\)`));

  const resumed = modelLab(['resume', killedDir], cwd);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`warning: .*checkpoint at step ${newest} cannot be used .*weights\\.bin.*sha256`));
  assert.match(resumed.stderr, new RegExp(`^step ${previous + 10}/120`, 'm'), `continues after step ${previous}`);
  assert.deepEqual(stepsAndValues(killedDir), stepsAndValues(reference.stdout.trim().split('\n').pop()!));
});

test('two resumes of one run at once: exactly one trains, the other exits 2 naming it', { timeout: 180_000 }, async () => {
  const cwd = workdir();
  const spec = specWith(cwd, 'contested', { steps: 100_000, checkpointEvery: 20, evalEvery: 100_000 });
  const runDir = await trainAndKill(spec, join(cwd, 'runs'), cwd, 20);

  // Settles when a resume prints its first step; fails as soon as both do.
  const trainers = new Set<number>();
  let winnerTrains!: () => void;
  let bothTrain!: (error: Error) => void;
  const training = new Promise<void>((resolve, reject) => ((winnerTrains = resolve), (bothTrain = reject)));
  const onLine = (which: number) => (line: string) => {
    if (!/^step \d+\//.test(line)) return;
    trainers.add(which);
    if (trainers.size === 2) bothTrain(new Error('both resumes train the run'));
    winnerTrains();
  };
  const [a, b] = [startModelLab(['resume', runDir], cwd, onLine(0)), startModelLab(['resume', runDir], cwd, onLine(1))];
  try {
    const first = await Promise.race([
      a.exited.then((r) => ({ ...r, loser: a, winner: b })),
      b.exited.then((r) => ({ ...r, loser: b, winner: a })),
      training.then(() => new Promise<never>(() => undefined)), // only its failure counts here
    ]);
    assert.equal(first.code, 2, first.stderr);
    assert.match(first.stderr, new RegExp(`in use by pid ${first.winner.child.pid} on `));
    assert.doesNotMatch(first.stderr, /^step /m, 'the refused resume never trained');

    await training;
    first.winner.child.kill('SIGINT'); // stop the winner: it saves a checkpoint and ends 'cancelled'
    const won = await first.winner.exited;
    assert.equal(won.code, 0, won.stderr);
    const steps = metricLines(runDir).map((r: { step: number }) => r.step);
    assert.ok(steps.every((step: number, i: number) => i === 0 || step >= steps[i - 1]), 'no interleaved records');
    assert.equal(new Set(steps).size, steps.length, 'no duplicated records (one record per step: no evaluation before step 100000)');
  } finally {
    for (const { child } of [a, b]) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});

test('a stalled but live owner keeps its run: resume and weights import exit 2 naming it', async () => {
  const cwd = workdir();
  const trained = modelLab(['train', specWith(cwd, 'stalled', { steps: 20, checkpointEvery: 10 }), '--out', join(cwd, 'runs')], cwd);
  assert.equal(trained.code, 0, trained.stderr);
  const runDir = trained.stdout.trim().split('\n').pop()!;
  // The owner: a live process whose training thread has been stuck for ten minutes (a long evaluation).
  const owner = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
  try {
    const stale = new Date(Date.now() - 600_000).toISOString();
    const status = JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8'));
    writeFileSync(join(runDir, 'status.json'), JSON.stringify({ ...status, state: 'running', step: 10, heartbeat: stale, pid: owner.pid }));
    mkdirSync(join(runDir, 'owner.lock'));
    const startedAt = new Date(processStartTime(owner.pid!) ?? Date.now()).toISOString();
    const record = { pid: owner.pid, hostname: hostname(), startedAt, acquiredAt: stale, heartbeat: stale, token: 'stalled' };
    writeFileSync(join(runDir, 'owner.lock', 'owner.json'), JSON.stringify(record));

    assert.match(modelLab(['list', '--out', join(cwd, 'runs')], cwd).stdout, /\trunning\t/);
    const resumed = modelLab(['resume', runDir], cwd);
    assert.equal(resumed.code, 2, resumed.stderr);
    assert.match(resumed.stderr, new RegExp(`in use by pid ${owner.pid} on .*last heartbeat 6\\d\\d s ago`));
    const imported = modelLab(['weights', 'import', runDir, join(cwd, 'none.safetensors')], cwd);
    assert.equal(imported.code, 2, imported.stderr);
    assert.match(imported.stderr, new RegExp(`in use by pid ${owner.pid}`));
  } finally {
    owner.kill();
  }
});

test('piping a command into a reader that stops early (| head) ends quietly, exit 0', async () => {
  const runsDir = join(workdir(), 'runs');
  const now = new Date().toISOString();
  // 3000 runs: `list` writes far more than a pipe holds, so it is still writing when the reader goes.
  for (let i = 0; i < 3000; i++) {
    const dir = join(runsDir, `run-${String(i).padStart(5, '0')}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ formatVersion: 1, id: `run-${i}`, name: 'r', experiment: 'x'.repeat(100), createdAt: now, notes: '', tags: [] }));
    writeFileSync(join(dir, 'status.json'), JSON.stringify({ state: 'completed', step: 1, totalSteps: 1, heartbeat: now, pid: 1, hostname: 'elsewhere' }));
    writeFileSync(join(dir, 'spec.json'), '{"name":"r","training":{"steps":1}}');
  }
  const child = spawn(process.execPath, [cli, 'list', '--out', runsDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdout.once('data', () => child.stdout.destroy()); // like head -1
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, stderr);
  assert.doesNotMatch(stderr, /EPIPE|Error/);
});

// ---------------------------------------------------------------------------------------------
// Bounded inputs and exit codes (issue 18, items 9-11): exit 2 with a sentence, before any worker.

const trainedRun = join(root, 'test', 'fixtures', 'trained-retrieval', 'multi-head-4000');

test('one run resolver: paths and run ids (--out respected); anything else exits 2 before a worker starts', () => {
  const cwd = workdir();
  const empty = join(cwd, 'empty');
  mkdirSync(empty);
  for (const command of [['show', empty], ['resume', empty], ['inspect', empty], ['weights', 'export', empty, join(cwd, 'w.safetensors')], ['calibrate', empty]]) {
    const result = modelLab(command, cwd);
    assert.equal(result.code, 2, `${command[0]}: ${result.stderr}`);
    assert.match(result.stderr, /empty: not a run folder or run id/, command[0]);
    assert.doesNotMatch(result.stderr, /spec\.json|file is missing/);
  }
  assert.deepEqual(readdirSync(empty), [], 'resume wrote nothing into the folder (no worker, no lock)');

  const byId = modelLab(['show', 'multi-head-4000', '--out', join(root, 'test', 'fixtures', 'trained-retrieval'), '--json'], cwd);
  assert.equal(byId.code, 0, byId.stderr);
  assert.equal(JSON.parse(byId.stdout).run.id, JSON.parse(modelLab(['show', trainedRun, '--json'], cwd).stdout).run.id);
  const unknownId = modelLab(['show', 'no-such-run'], cwd);
  assert.equal(unknownId.code, 2);
  assert.match(unknownId.stderr, /no-such-run: not a run folder or run id \(no such run in .*\.model-lab[\\/]runs\)/);
});

test('bad command-line input exits 2 with a sentence: an unknown split, a folder as output, devices as input', () => {
  const cwd = workdir();
  const split = modelLab(['inspect', trainedRun, '--split', 'nope'], cwd);
  assert.equal(split.code, 2, split.stderr);
  assert.match(split.stderr, /unknown split 'nope': expected one of/);

  const onFolder = modelLab(['weights', 'export', trainedRun, cwd], cwd);
  assert.equal(onFolder.code, 2, onFolder.stderr);
  assert.match(onFolder.stderr, /is a folder: give the path of the \.safetensors file to write/);
  assert.doesNotMatch(onFolder.stderr, /EISDIR/);

  for (const [command, what] of [
    [['weights', 'import', trainedRun, '/dev/zero'], 'safetensors file'],
    [['inspect', trainedRun, '--input', '/dev/zero'], 'input file'],
    [['inspect', trainedRun, '--input', cwd], 'input file'],
  ] as const) {
    const result = modelLab([...command], cwd);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, new RegExp(`cannot read the ${what} .*: it (is not a regular file|is a folder)`));
  }

  const hugeSteps = modelLab(['train', fixture('loss-drop.lab.json'), '--steps', String(2 ** 60)], cwd);
  assert.equal(hugeSteps.code, 2);
  assert.ok(!readdirSync(cwd).includes('.model-lab'), 'no run folder was created');
});

test('posterior: --samples and values are bounded, NaN results are errors, never printed as null', () => {
  const cwd = workdir();
  const trained = modelLab(['train', join(root, 'examples', 'posterior-gaussian-mean-quick.lab.json'), '--steps', '5'], cwd);
  assert.equal(trained.code, 0, trained.stderr);
  const runDir = trained.stdout.trim().split('\n').pop()!;
  const data = (x: number[][]) => {
    const file = join(cwd, `data-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify({ x }));
    return file;
  };
  const good = data([[0.1, 0.2], [0.3, -0.1]]);
  assert.equal(modelLab(['posterior', runDir, '--data', good, '--samples', '3'], cwd).code, 0);

  const many = modelLab(['posterior', runDir, '--data', good, '--samples', '1e8'], cwd);
  assert.equal(many.code, 2);
  assert.match(many.stderr, /--samples must be at most 100000, got 100000000/);
  const device = modelLab(['posterior', runDir, '--data', '/dev/zero'], cwd);
  assert.equal(device.code, 2);
  assert.match(device.stderr, /it is not a regular file/);

  const beyondFloat32 = modelLab(['posterior', runDir, '--data', data([[1e308, 1], [2, 3]])], cwd);
  assert.equal(beyondFloat32.code, 2, beyondFloat32.stderr);
  assert.match(beyondFloat32.stderr, /x\[0\] must be an array of 2 finite numbers within float32's range/);
  const overflow = modelLab(['posterior', runDir, '--data', data([[3e38, 3e38], [3e38, 3e38]])], cwd);
  assert.notEqual(overflow.code, 0);
  assert.match(overflow.stderr, /samples are not finite numbers/);
  assert.equal(overflow.stdout, '', 'no result with null in it');
});

test('a run folder from a newer Model Lab (run.json, spec.json or status.json) is refused, not resumed and rewritten', () => {
  const cwd = workdir();
  for (const file of ['run.json', 'spec.json', 'status.json']) {
    const runDir = join(cwd, file.replace('.json', ''));
    cpSync(trainedRun, runDir, { recursive: true });
    const status = JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8'));
    writeFileSync(join(runDir, 'status.json'), JSON.stringify({ ...status, state: 'cancelled' }));
    const content = JSON.parse(readFileSync(join(runDir, file), 'utf8'));
    writeFileSync(join(runDir, file), JSON.stringify({ ...content, formatVersion: 99 }));
    const before = readdirSync(runDir).map((name) => [name, statSync(join(runDir, name)).mtimeMs]);
    const resumed = modelLab(['resume', runDir], cwd);
    assert.equal(resumed.code, 2, `${file}: ${resumed.stderr}`);
    assert.match(resumed.stderr, new RegExp(`${file.replace('.', '\\.')}: \\w+ format 99 was written by a newer Model Lab`));
    assert.deepEqual(readdirSync(runDir).map((name) => [name, statSync(join(runDir, name)).mtimeMs]), before, 'nothing rewritten');
  }
});

test('show prints the run duration and speed; a run from before durations were recorded shows its steps', () => {
  const cwd = workdir();
  const trained = modelLab(['train', specWith(cwd, 'timed', { steps: 40, logEvery: 10, evalEvery: 40, checkpointEvery: 40 })], cwd);
  assert.equal(trained.code, 0, trained.stderr);
  const runDir = trained.stdout.trim().split('\n').pop()!;
  const status = JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8'));
  assert.equal(status.state, 'completed');
  assert.ok(Number.isFinite(status.elapsedMs) && status.elapsedMs >= 0, `status.json records the training time: ${JSON.stringify(status)}`);
  assert.equal(JSON.parse(modelLab(['show', runDir, '--json'], cwd).stdout).run.elapsedMs, status.elapsedMs);
  // Completed: the duration (and the rate when measurable), never a time left.
  assert.match(modelLab(['show', runDir], cwd).stdout, /^progress {3}40\/40 steps, [\d.]+ (s|min \d+ s)(, [\d.,]+ steps\/s)?$/m);

  const old = modelLab(['show', trainedRun], cwd);
  assert.equal(old.code, 0, old.stderr);
  assert.match(old.stdout, /^progress {3}4000\/4000 steps(, [\d.,]+ steps\/s)?$/m);
});
