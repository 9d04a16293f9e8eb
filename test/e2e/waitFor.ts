// Bounded polling, and the run-folder conditions the scenarios wait on.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Said in the timeout error: "timed out after 30000 ms waiting for <what>" (a function is
   *  asked at timeout, so it can tell the state things ended in). */
  what: string | (() => string);
}

/**
 * Polls `check` until it returns a value other than undefined/false, and returns that value.
 * An exception thrown by `check` ends the wait at once (it means "this will never happen").
 */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  options: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() >= deadline) {
      const what = typeof options.what === 'function' ? options.what() : options.what;
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}`);
    }
    await sleep(options.intervalMs ?? 200);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ------------------------------------------------------------------ run folders on disk

export function runsDir(workspace: string): string {
  return join(workspace, '.model-lab', 'runs');
}

/** Run folders under `<ws>/.model-lab/runs`, oldest first (ids start with a timestamp). */
export function listRunDirs(workspace: string): string[] {
  const dir = runsDir(workspace);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => !name.startsWith('.') && statSync(join(dir, name)).isDirectory())
    .sort()
    .map((name) => join(dir, name));
}

/** Parsed `status.json` of a run, or undefined while it is missing or half written. */
export function readStatus(runDir: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The run's state as written on disk (`state`, or `status` if the store names it so). */
export function runState(runDir: string): string | undefined {
  const status = readStatus(runDir);
  const state = status?.state ?? status?.status;
  return typeof state === 'string' ? state : undefined;
}

export interface MetricLine {
  step: number;
  values: Record<string, number>;
}

/** Complete lines of `metrics.jsonl` (a line being written is ignored). */
export function readMetricLines(runDir: string): MetricLine[] {
  let text: string;
  try {
    text = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8');
  } catch {
    return [];
  }
  const lines = text.split('\n');
  lines.pop(); // the part after the last newline is incomplete (or empty)
  return lines.filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as MetricLine);
}

/** Waits for a run folder that did not exist before (`known` = folders seen earlier). */
export function waitForNewRun(workspace: string, known: string[], timeoutMs: number): Promise<string> {
  return waitFor(() => listRunDirs(workspace).find((dir) => !known.includes(dir) && readStatus(dir)), {
    timeoutMs,
    what: `a new run folder with status.json under ${runsDir(workspace)}`,
  });
}

export function waitForRunState(runDir: string, states: string[], timeoutMs: number): Promise<string> {
  return waitFor(
    () => {
      const state = runState(runDir);
      return state !== undefined && states.includes(state) ? state : undefined;
    },
    {
      timeoutMs,
      what: () => `${runDir} to reach state ${states.join(' or ')} (it is ${runState(runDir) ?? 'without status'})`,
    },
  );
}

/** Checkpoint steps saved in `<run>/checkpoints/step-NNNNNNNN/`, ascending. */
export function checkpointSteps(runDir: string): number[] {
  const dir = join(runDir, 'checkpoints');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => /^step-(\d+)$/.exec(name)?.[1])
    .filter((step): step is string => step !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}
