// Kill -9 at random moments, then resume: does any metric record get lost, duplicated or
// interleaved? Each trial trains a small quick experiment with the CLI (dist/cli.js), SIGKILLs it
// at a random moment, resumes it up to three times (sometimes two resumes of the run at once:
// only one may train), killing most of those at random moments too, then resumes it to the end.
// After every step metrics.jsonl is checked; at the end it must equal, record for record (step and
// values, not wall time), an uninterrupted reference run of the same spec. Prints the counts;
// exits 1 unless every count of damage is zero. Not part of CI.
//
//   npm run build && node bench/kill-loop.mjs [--trials 100] [--seed 1] [--backend wasm] [--cli dist/cli.js]
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    trials: { type: 'string', default: '100' },
    seed: { type: 'string', default: '1' },
    backend: { type: 'string', default: 'wasm' },
    cli: { type: 'string', default: path.join(root, 'dist', 'cli.js') },
  },
});
const cli = path.resolve(args.cli);
const TRIALS = Number(args.trials);

// Seeded, so a failing trial can be replayed with the same kill times (up to process timing).
let state = Number(args.seed) >>> 0 || 1;
function random() {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 2 ** 32;
}

if (!fs.existsSync(cli)) {
  console.error('dist/cli.js is missing: run `npm run build` first');
  process.exit(2);
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'model-lab-kill-loop-'));

// A few dozen steps with a checkpoint every 10 (keep 3) and a record every 5: kills land in
// startup, training, metric appends, checkpoint writes and pruning alike.
const spec = JSON.parse(fs.readFileSync(path.join(root, 'examples', 'retrieval-mha-quick.lab.json'), 'utf8'));
spec.training = { ...spec.training, steps: 60, checkpointEvery: 10, keepCheckpoints: 3, logEvery: 5, evalEvery: 20, evalBatches: 2 };
const specFile = path.join(tmp, 'kill-loop.lab.json');
fs.writeFileSync(specFile, JSON.stringify(spec));

/**
 * Run the CLI; SIGKILL it `killAfterMs` after it starts (or, with `startsAt`, after a stderr line
 * matching it) when given. Resolves with how it ended.
 */
function modelLab(cliArgs, killAfterMs, startsAt) {
  const child = spawn(process.execPath, [cli, ...cliArgs], {
    cwd: tmp,
    env: { ...process.env, MODEL_LAB_BACKEND: args.backend },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  let timer;
  let startedAt;
  const arm = () => {
    startedAt ??= Date.now();
    if (killAfterMs !== undefined) timer ??= setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  };
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    if (startsAt?.test(stderr)) arm();
  });
  if (!startsAt) arm();
  return new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, killed: signal === 'SIGKILL', stdout, stderr, ranMs: startedAt === undefined ? 0 : Date.now() - startedAt });
    }),
  );
}

function readRecords(runDir) {
  const file = path.join(runDir, 'metrics.jsonl');
  if (!fs.existsSync(file)) return [];
  // A kill may leave a torn last line; readers skip it and the next owner cuts it.
  return fs.readFileSync(file, 'utf8').split('\n').flatMap((line) => {
    try {
      return line.trim() ? [JSON.parse(line)] : [];
    } catch {
      return [];
    }
  });
}

const keyOf = (record) => `${record.step} ${Object.keys(record.values).sort().join(',')}`;
const counts = {
  trials: 0, // runs in which at least one SIGKILL landed: the loop runs until there are TRIALS of them
  unkilledRuns: 0, // runs whose every kill came after its process had ended (checked all the same)
  trainKills: 0,
  resumeKills: 0,
  contested: 0,
  refused: 0,
  lost: 0,
  duplicated: 0,
  interleaved: 0,
  mismatched: 0,
  unfinished: 0,
};
const problems = [];

/** Count interleaving (a step going back) and duplicates (a step and metric set seen twice) in one file. */
function checkFile(records, where) {
  const seen = new Set();
  records.forEach((record, i) => {
    if (i > 0 && record.step < records[i - 1].step) {
      counts.interleaved++;
      problems.push(`${where}: step ${records[i - 1].step} then ${record.step}`);
    }
    const key = keyOf(record);
    if (seen.has(key)) {
      counts.duplicated++;
      problems.push(`${where}: record ${key} twice`);
    }
    seen.add(key);
  });
}

const started = Date.now();
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
console.log(`kill-loop: ${TRIALS} trials of ${spec.training.steps} steps, backend ${args.backend}, seed ${args.seed}, load ${load()}`);

// `train` prints the backend once its run folder exists: its kills count from there, so that
// most land in training; a resume's count from its start (startup and lock taking included).
const RUN_CREATED = /^backend /m;
const referenceStart = Date.now();
const reference = await modelLab(['train', specFile, '--out', path.join(tmp, 'reference')], undefined, RUN_CREATED);
if (reference.code !== 0) throw new Error(`the reference run failed: ${reference.stderr}`);
const runTimeMs = Date.now() - referenceStart;
const trainTimeMs = reference.ranMs;
const expected = readRecords(reference.stdout.trim().split('\n').pop());
console.log(
  `reference: ${expected.length} records, ${runTimeMs} ms (${trainTimeMs} ms from its run folder on); ` +
    `kills land uniformly in [0, ${Math.round(1.2 * trainTimeMs)}] ms after the folder (train), [0, ${Math.round(1.2 * runTimeMs)}] ms after the start (resume)`,
);
const killTime = () => Math.floor(random() * 1.2 * runTimeMs);
const trainKillTime = () => Math.floor(random() * 1.2 * trainTimeMs);

for (let attempt = 1; counts.trials < TRIALS; attempt++) {
  const out = path.join(tmp, `run-${attempt}`);
  const killsBefore = counts.trainKills + counts.resumeKills;
  const trained = await modelLab(['train', specFile, '--out', out], trainKillTime(), RUN_CREATED);
  if (trained.killed) counts.trainKills++;
  const runs = fs.readdirSync(out).filter((name) => !name.startsWith('.'));
  const runDir = path.join(out, runs[0]);
  const where = (what) => `run ${attempt} (${runs[0]}) ${what}`;
  checkFile(readRecords(runDir), where('after the train'));

  const resumes = Math.floor(random() * 4);
  for (let r = 0; r < resumes; r++) {
    const pair = random() < 0.25;
    const kill = () => (random() < 0.7 ? killTime() : undefined);
    const results = await Promise.all((pair ? [kill(), kill()] : [kill()]).map((after) => modelLab(['resume', runDir], after)));
    if (pair) counts.contested++;
    for (const result of results) {
      if (result.killed) counts.resumeKills++;
      if (result.code === 2 && /in use by pid/.test(result.stderr)) counts.refused++;
      else if (!result.killed && result.code !== 0 && !/already completed/.test(result.stderr)) {
        problems.push(`${where(`resume ${r + 1}`)} exited ${result.code}: ${result.stderr.trim().split('\n').pop()}`);
      }
    }
    checkFile(readRecords(runDir), where(`after resume ${r + 1}${pair ? ' (two at once)' : ''}`));
  }

  if (counts.trainKills + counts.resumeKills > killsBefore) counts.trials++;
  else counts.unkilledRuns++;
  const final = await modelLab(['resume', runDir]);
  if (final.code !== 0 && !/already completed/.test(final.stderr)) {
    counts.unfinished++;
    problems.push(`${where('final resume')} exited ${final.code}: ${final.stderr.trim().split('\n').pop()}`);
    continue;
  }
  const records = readRecords(runDir);
  checkFile(records, where('at the end'));
  const got = new Map(records.map((record) => [keyOf(record), record]));
  for (const want of expected) {
    const have = got.get(keyOf(want));
    if (!have) {
      counts.lost++;
      problems.push(`${where('at the end')}: record ${keyOf(want)} is missing`);
    } else if (JSON.stringify(have.values) !== JSON.stringify(want.values)) {
      counts.mismatched++;
      problems.push(`${where('at the end')}: record ${keyOf(want)} differs from the uninterrupted run`);
    }
  }
  if (records.length !== expected.length) problems.push(`${where('at the end')}: ${records.length} records, the reference has ${expected.length}`);
  if (attempt % 10 === 0) console.log(`  ${counts.trials} trials, ${counts.trainKills + counts.resumeKills} kills, ${Math.round((Date.now() - started) / 1000)} s`);
}

const minutes = ((Date.now() - started) / 60_000).toFixed(1);
console.log(`\n${problems.slice(0, 20).join('\n')}${problems.length > 20 ? `\n... ${problems.length - 20} more` : ''}`);
console.log(
  `trials ${counts.trials} (runs killed at least once; and ${counts.unkilledRuns} runs no kill landed in), ` +
    `SIGKILLs ${counts.trainKills} in train, ${counts.resumeKills} in resume; ` +
    `resumes started two at once ${counts.contested} (one refused, naming the owner: ${counts.refused})`,
);
console.log(`records lost ${counts.lost}, duplicated ${counts.duplicated}, interleaved ${counts.interleaved}, differing from the uninterrupted run ${counts.mismatched}, runs not resumable to the end ${counts.unfinished}`);
console.log(`${minutes} min, load ${load()}`);
console.log(JSON.stringify({ ...counts, minutes: Number(minutes), problems: problems.length }));
fs.rmSync(tmp, { recursive: true, force: true });
process.exitCode = counts.lost + counts.duplicated + counts.interleaved + counts.mismatched + counts.unfinished + problems.length > 0 ? 1 : 0;
