/**
 * The property-based fuzz suite of issue 18: for each target (spec files, run folders,
 * safetensors files; see their modules), FUZZ_CASES cases generated from the schema and the
 * formats with a fixed seed, each capped in time and memory (cappedRun.ts). Every case must end in
 * a valid result or a located error. A failure report names the smallest failing case and
 * fast-check's seed and path to replay it. The long run: `node --import tsx bench/fuzz.ts`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCapped } from './cappedRun';
import { trainSeedRun } from './seedRun';
import { TARGETS } from './targets';

const FUZZ_SEED = 18; // the number: any fixed seed gives the same cases every run
const FUZZ_CASES = 10_000;

// The targets run side by side (one process each): on two cores that halves the suite's time.
describe('fuzz suite', { concurrency: true }, () => {
  let dir: string;
  let seedRun: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'model-lab-fuzz-'));
    seedRun = trainSeedRun(dir);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const target of Object.keys(TARGETS)) {
    test(`${target}: ${FUZZ_CASES} cases, each a valid result or a located error (no crash, hang or unbounded memory)`, async () => {
      const report = await runCapped({ target, runs: FUZZ_CASES, seed: FUZZ_SEED, seedRun });
      assert.equal(report.failure, undefined, report.failure);
      assert.equal(report.cases, FUZZ_CASES);
    });
  }
});
