/**
 * The child process of cappedRun.ts: sets up one target, then runs its cases with fast-check
 * (fixed seed), telling the parent before each case what it is about to do.
 *
 * Two modes: 'assert' stops at the first broken case and shrinks it to the smallest one that
 * still breaks (what `npm test` runs); 'survey' runs every case and counts broken ones by kind,
 * with the first case of each kind (bench/fuzz.ts, to list every defect at once).
 */
import fc from 'fast-check';
import type { RunnerInput, RunnerMessage, SurveyEntry } from './cappedRun';
import { CaseFailure, describeError } from './outcomes';
import { TARGETS } from './targets';

/** A failure report keeps the counterexample and fast-check's replay line, not megabytes of input. */
const MAX_REPORT_CHARS = 8_000;

const send = (message: RunnerMessage) => process.send!(message);

async function main(): Promise<void> {
  const input = JSON.parse(process.argv[2]) as RunnerInput;
  const target = TARGETS[input.target];
  if (!target) throw new Error(`unknown fuzz target '${input.target}': expected one of ${Object.keys(TARGETS).join(', ')}`);
  const state = await target.setup({ root: input.root, tmp: input.tmp, seedRun: input.seedRun });
  send({ type: 'ready' });

  let index = 0;
  let slowestCaseMs = 0;
  const survey = new Map<string, SurveyEntry>();
  const property = fc.asyncProperty(target.cases(state), async (testCase) => {
    if (index < input.startAt) {
      index++;
      return;
    }
    const label = target.describe(state, testCase).slice(0, 2_000);
    send({ type: 'case', index: index++, label });
    const start = performance.now();
    try {
      await target.check(state, testCase);
    } catch (error) {
      if (input.mode === 'assert') throw error;
      const kind = error instanceof CaseFailure ? error.kind : `the check itself threw: ${(error as Error)?.message?.slice(0, 80)}`;
      const entry = survey.get(kind) ?? { kind, count: 0, example: label, detail: error instanceof CaseFailure ? error.message.slice(0, 2_000) : describeError(error) };
      entry.count++;
      survey.set(kind, entry);
    } finally {
      slowestCaseMs = Math.max(slowestCaseMs, performance.now() - start);
    }
  });
  const details = await fc.check(property, { seed: input.seed, numRuns: input.runs });
  const failure = details.failed ? failureReport(details, (testCase) => target.describe(state, testCase)) : undefined;
  send({
    type: 'done',
    cases: index - input.startAt,
    slowestCaseMs,
    survey: [...survey.values()],
    ...(failure !== undefined ? { failure: failure.length > MAX_REPORT_CHARS ? `${failure.slice(0, MAX_REPORT_CHARS)}...` : failure } : {}),
  });
}

/** fast-check's report (seed, path to replay, counterexample), the case in words, and the error. */
function failureReport<Case>(details: fc.RunDetails<[Case]>, describe: (testCase: Case) => string): string {
  const error = details.errorInstance;
  const message = error instanceof Error ? error.message : String(error);
  const counterexample = details.counterexample ? `\nThe smallest failing case: ${describe(details.counterexample[0])}` : '';
  return `${fc.defaultReportMessage(details)}${counterexample}\n${message}`;
}

main().catch((error: unknown) => {
  send({ type: 'done', cases: 0, slowestCaseMs: 0, survey: [], failure: `the fuzz target could not start: ${describeError(error)}` });
});
