// The long run of the fuzz suite (test/fuzz/, issue 18): the same targets, generators and caps as
// `npm test`, with many more cases. By default a survey: every case runs, broken ones are counted by
// kind with the first case of each kind (a case that hangs or runs out of memory is counted and
// the survey goes on in a new process); `--assert` stops at the first broken case and shrinks it,
// as `npm test` does. Exits 1 when any case broke.
//
//   npm run build && node --import tsx bench/fuzz.ts [--runs 200000] [--seed 18]
//       [--only spec-files,run-folders,safetensors] [--assert]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { CASE_TIME_LIMIT_MS, CASE_WALL_LIMIT_MS, MEMORY_CAP_MB, runCapped } from '../test/fuzz/cappedRun';
import { trainSeedRun } from '../test/fuzz/seedRun';
import { TARGETS } from '../test/fuzz/targets';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '200000' },
    seed: { type: 'string', default: '18' },
    only: { type: 'string' },
    assert: { type: 'boolean', default: false },
  },
});

async function main(): Promise<number> {
  const runs = Number(args.runs);
  const seed = Number(args.seed);
  const targets = args.only ? args.only.split(',') : Object.keys(TARGETS);
  for (const target of targets) if (!TARGETS[target]) throw new Error(`unknown target '${target}': expected ${Object.keys(TARGETS).join(', ')}`);
  console.log(`fuzz: ${runs} cases per target, seed ${seed}, ${args.assert ? 'stop at the first broken case' : 'survey'}; caps ${CASE_TIME_LIMIT_MS} ms of CPU (${CASE_WALL_LIMIT_MS / 1000} s wall) and ${MEMORY_CAP_MB} MB per case; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'model-lab-fuzz-bench-'));
  let broken = 0;
  try {
    const seedRun = trainSeedRun(dir);
    for (const target of targets) {
      const report = await runCapped({ target, runs, seed, seedRun, mode: args.assert ? 'assert' : 'survey' });
      const slowest = Number.isFinite(report.slowestCaseMs) ? `${report.slowestCaseMs.toFixed(0)} ms` : 'a stopped case';
      console.log(`\n${target}: ${report.cases} cases in ${(report.elapsedMs / 1000).toFixed(1)} s (${((report.elapsedMs / Math.max(1, report.cases)) * 1000).toFixed(0)} us per case; slowest: ${slowest})`);
      for (const entry of report.survey) {
        broken += entry.count;
        console.log(`  ${entry.count} x ${entry.kind}\n    first: ${entry.example}\n    ${entry.detail.split('\n').slice(0, 6).join('\n    ')}`);
      }
      if (report.failure) {
        broken++;
        console.log(`  ${report.failure}`);
      }
      if (report.survey.length === 0 && !report.failure) console.log('  every case: a valid result or a located error');
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\nload average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  return broken > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
