/**
 * Runs one fuzz target in a child process (caseRunner.ts) with every case capped, and reports the
 * first case that breaks the property, hangs, or takes too much memory.
 *
 * Why a child process: a case that hangs in native code (reading /dev/zero, say) cannot be
 * stopped from inside, and one that allocates gigabytes would take the test runner with it. The
 * child can always be killed. Its V8 heap is capped (--max-old-space-size) and a watchdog here
 * polls its progress (one message per case) and its resident memory (/proc, on Linux):
 *   - a case that has used CASE_TIME_LIMIT_MS of CPU (the child's user + system time, from /proc),
 *     or is still running after CASE_WALL_LIMIT_MS (blocked without using CPU, e.g. on a FIFO), is
 *     a hang. CPU time, not wall time, for the 2 s cap: `npm test` runs test files side by side on
 *     two cores, and a case waiting for a core is not hanging (a 2 s wall-clock cap tripped there);
 *   - resident memory above what the child used after its setup, plus the heap's cap, plus
 *     MEMORY_CAP_MB for one case's buffers outside the heap, is unbounded memory.
 * Cases take about a millisecond; the limits are far above that, so a loaded machine does not
 * trip them.
 */
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const CASE_TIME_LIMIT_MS = 2_000;
/** Wall-clock backstop, for a case blocked without using CPU, and where /proc is not available. */
export const CASE_WALL_LIMIT_MS = 30_000;
/** /proc/<pid>/stat counts CPU time in USER_HZ ticks, 100 per second on Linux. */
const MS_PER_TICK = 10;
export const MEMORY_CAP_MB = 256;
const WATCH_INTERVAL_MS = 50;

export interface CappedRunOptions {
  target: string;
  runs: number;
  seed: number;
  /** The seed run folder (seedRun.ts). */
  seedRun: string;
  /**
   * 'assert' (default): stop at the first broken case and shrink it. 'survey': run every case and
   * count broken ones by kind; a case that hangs or runs out of memory is counted and the run
   * goes on in a new process from the next case.
   */
  mode?: 'assert' | 'survey';
}

/** Broken cases of one kind in a survey, with the first such case. */
export interface SurveyEntry {
  kind: string;
  count: number;
  example: string;
  detail: string;
}

export interface CappedRunReport {
  target: string;
  /** Cases run, shrinking included. */
  cases: number;
  elapsedMs: number;
  slowestCaseMs: number;
  /** Set when a case failed: what it did and what happened. */
  failure?: string;
  /** In a survey: the broken cases by kind. */
  survey: SurveyEntry[];
}

/** Messages from caseRunner.ts. */
export type RunnerMessage =
  | { type: 'ready' }
  | { type: 'case'; index: number; label: string }
  | { type: 'done'; cases: number; slowestCaseMs: number; survey: SurveyEntry[]; failure?: string };

export interface RunnerInput {
  target: string;
  runs: number;
  seed: number;
  root: string;
  tmp: string;
  seedRun: string;
  mode: 'assert' | 'survey';
  /** Cases before this index are generated (fast-check's sequence stays the same) but not run. */
  startAt: number;
}

const ROOT = path.join(__dirname, '..', '..');

/** Resident memory of a process in bytes, or undefined where /proc is not available. */
function residentBytes(pid: number): number | undefined {
  try {
    const pages = Number(fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]);
    return pages * 4096;
  } catch {
    return undefined;
  }
}

/** User + system CPU time of a process in ms, or undefined where /proc is not available. */
function cpuMs(pid: number): number | undefined {
  try {
    // Fields after the command name (which may hold spaces, so split after its closing paren).
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK; // utime, stime: fields 14 and 15
  } catch {
    return undefined;
  }
}

/** How one child process ended: its own report, or stopped by the watchdog during a case. */
type ChildOutcome =
  | { ended: 'done'; cases: number; slowestCaseMs: number; survey: SurveyEntry[]; failure?: string }
  | { ended: 'stopped'; index: number; label: string; kind: string; detail: string };

function runChild(input: RunnerInput): Promise<ChildOutcome> {
  const child = fork(path.join(__dirname, 'caseRunner.ts'), [JSON.stringify(input)], {
    execArgv: ['--import', 'tsx', `--max-old-space-size=${MEMORY_CAP_MB}`],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve) => {
    let current: { index: number; label: string; since: number; cpuSince?: number } | undefined;
    let residentLimit: number | undefined;
    let settled = false;
    const finish = (outcome: ChildOutcome) => {
      if (settled) return;
      settled = true;
      clearInterval(watchdog);
      child.kill('SIGKILL');
      resolve(outcome);
    };
    const stop = (kind: string, detail: string) =>
      finish({ ended: 'stopped', index: current?.index ?? -1, label: current?.label ?? 'the setup, before any case', kind, detail });

    child.on('message', (message: RunnerMessage) => {
      if (message.type === 'ready') {
        const resident = residentBytes(child.pid!);
        if (resident !== undefined) residentLimit = resident + 2 * MEMORY_CAP_MB * 2 ** 20;
      } else if (message.type === 'case') {
        current = { index: message.index, label: message.label, since: Date.now(), cpuSince: cpuMs(child.pid!) };
      } else {
        const { type: _, ...report } = message;
        finish({ ended: 'done', ...report });
      }
    });
    child.on('exit', (code, signal) =>
      stop('the process died (out of memory or a native crash)', `exit code ${code}, signal ${signal}`),
    );
    const watchdog = setInterval(() => {
      if (current) {
        const cpu = current.cpuSince !== undefined ? cpuMs(child.pid!) : undefined;
        if (cpu !== undefined && cpu - current.cpuSince! > CASE_TIME_LIMIT_MS) {
          stop(`a hang (a case used more than ${CASE_TIME_LIMIT_MS} ms of CPU)`, '');
        } else if (Date.now() - current.since > CASE_WALL_LIMIT_MS) {
          stop(`a hang (a case ran for more than ${CASE_WALL_LIMIT_MS / 1000} s)`, '');
        }
      }
      const resident = residentLimit !== undefined ? residentBytes(child.pid!) : undefined;
      if (resident !== undefined && resident > residentLimit!) {
        stop(`unbounded memory (more than ${MEMORY_CAP_MB} MB for one case beyond the heap)`, `the process grew to ${Math.round(resident / 2 ** 20)} MB`);
      }
    }, WATCH_INTERVAL_MS);
  });
}

export async function runCapped(options: CappedRunOptions): Promise<CappedRunReport> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `model-lab-fuzz-${options.target}-`));
  const started = Date.now();
  const report: CappedRunReport = { target: options.target, cases: 0, elapsedMs: 0, slowestCaseMs: 0, survey: [] };
  const mode = options.mode ?? 'assert';
  try {
    for (let startAt = 0; ; ) {
      // A fresh folder per process: one stopped mid-case leaves its files as they were.
      const childTmp = fs.mkdtempSync(path.join(tmp, 'process-'));
      const outcome = await runChild({ ...options, mode, root: ROOT, tmp: childTmp, startAt });
      if (outcome.ended === 'done') {
        report.cases += outcome.cases;
        report.slowestCaseMs = Math.max(report.slowestCaseMs, outcome.slowestCaseMs);
        report.survey.push(...outcome.survey);
        if (outcome.failure !== undefined) report.failure = outcome.failure;
        break;
      }
      report.cases = outcome.index + 1;
      report.slowestCaseMs = Infinity;
      const where = `case #${outcome.index} (${outcome.label})`;
      if (mode === 'assert' || outcome.index < startAt) {
        report.failure = `${where}: ${outcome.kind}${outcome.detail ? `: ${outcome.detail}` : ''}`;
        break;
      }
      report.survey.push({ kind: outcome.kind, count: 1, example: outcome.label, detail: outcome.detail });
      startAt = outcome.index + 1;
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  report.survey = mergeSurveys(report.survey);
  report.elapsedMs = Date.now() - started;
  return report;
}

/** One entry per kind (a survey restarted after a hang reports the same kinds again). */
function mergeSurveys(entries: SurveyEntry[]): SurveyEntry[] {
  const byKind = new Map<string, SurveyEntry>();
  for (const entry of entries) {
    const known = byKind.get(entry.kind);
    if (known) known.count += entry.count;
    else byKind.set(entry.kind, { ...entry });
  }
  return [...byKind.values()].sort((a, b) => b.count - a.count);
}
