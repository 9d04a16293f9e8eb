// A workspace holding one run trained by the real CLI (dist/cli.js) before VS Code opens it: the
// scenarios that look at a trained run start from this instead of training through the UI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { repoRoot } from './paths';

export interface CliTrainedRun {
  /** A template of templates/, e.g. `retrieval-mha-quick.lab.json`. */
  template: string;
  /** The experiment's name (and its file's). */
  name: string;
  description: string;
  /** Replaces these fields of the template's `training`. */
  training: Record<string, unknown>;
  /** Replaces these fields of the template's model and objective (a smaller sampler for a short scenario). */
  model?: Record<string, unknown>;
  objective?: Record<string, unknown>;
  timeoutMs: number;
}

/** Writes the experiment into a fresh temp folder, trains it into its .model-lab/runs; returns both. */
export function cliTrainedWorkspace(run: CliTrainedRun): { folder: string; runDir: string } {
  const folder = mkdtempSync(join(tmpdir(), `model-lab-${run.name}-`));
  const spec = JSON.parse(readFileSync(join(repoRoot, 'templates', run.template), 'utf8')) as Record<string, unknown>;
  spec.name = run.name;
  spec.description = run.description;
  spec.training = { ...(spec.training as Record<string, unknown>), ...run.training };
  spec.model = { ...(spec.model as Record<string, unknown>), ...run.model };
  spec.objective = { ...(spec.objective as Record<string, unknown>), ...run.objective };
  writeFileSync(join(folder, `${run.name}.lab.json`), JSON.stringify(spec, null, 2));
  return { folder, runDir: runCli(folder, 'train', `${run.name}.lab.json`, run.timeoutMs) };
}

/**
 * A workspace holding a sweep of the template trained by the CLI: its members differ in the
 * spec values `grid` lists (JSON pointer -> values). Returns the folder and the members' run folders.
 */
export function cliTrainedSweep(run: CliTrainedRun & { grid: Record<string, unknown[]> }): { folder: string; runDirs: string[] } {
  const folder = mkdtempSync(join(tmpdir(), `model-lab-${run.name}-`));
  const base = JSON.parse(readFileSync(join(repoRoot, 'templates', run.template), 'utf8')) as Record<string, unknown>;
  for (const key of ['formatVersion', 'kind', 'name', 'description']) delete base[key];
  base.training = { ...(base.training as Record<string, unknown>), ...run.training };
  const sweep = { formatVersion: 1, kind: 'sweep', name: run.name, description: run.description, base, grid: run.grid };
  writeFileSync(join(folder, `${run.name}.lab.json`), JSON.stringify(sweep, null, 2));
  const sweepDir = runCli(folder, 'sweep', `${run.name}.lab.json`, run.timeoutMs);
  const members = (JSON.parse(readFileSync(join(sweepDir, 'sweep.json'), 'utf8')) as { members: { runId: string }[] }).members;
  return { folder, runDirs: members.map((member) => join(dirname(sweepDir), member.runId)) };
}

/** `model-lab <command> <file> --out <folder>/.model-lab/runs` in `folder`; the last line of stdout (the run or sweep folder). */
function runCli(folder: string, command: 'train' | 'sweep', file: string, timeoutMs: number): string {
  const runs = join(folder, '.model-lab', 'runs');
  mkdirSync(runs, { recursive: true });
  const result = spawnSync(process.execPath, [join(repoRoot, 'dist', 'cli.js'), command, file, '--out', runs], {
    cwd: folder,
    encoding: 'utf8',
    env: { ...process.env, MODEL_LAB_BACKEND: 'wasm' },
    timeout: timeoutMs,
  });
  assert.equal(result.status, 0, `model-lab ${command} failed: ${result.stderr}`);
  return result.stdout.trim().split('\n').pop()!;
}
