// A workspace holding one run trained by the real CLI (dist/cli.js) before VS Code opens it: the
// scenarios that look at a trained run start from this instead of training through the UI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './paths';

export interface CliTrainedRun {
  /** A template of templates/, e.g. `retrieval-mha-quick.lab.json`. */
  template: string;
  /** The experiment's name (and its file's). */
  name: string;
  description: string;
  /** Replaces these fields of the template's `training`. */
  training: Record<string, unknown>;
  timeoutMs: number;
}

/** Writes the experiment into a fresh temp folder, trains it into its .model-lab/runs; returns both. */
export function cliTrainedWorkspace(run: CliTrainedRun): { folder: string; runDir: string } {
  const folder = mkdtempSync(join(tmpdir(), `model-lab-${run.name}-`));
  const spec = JSON.parse(readFileSync(join(repoRoot, 'templates', run.template), 'utf8')) as Record<string, unknown>;
  spec.name = run.name;
  spec.description = run.description;
  spec.training = { ...(spec.training as Record<string, unknown>), ...run.training };
  writeFileSync(join(folder, `${run.name}.lab.json`), JSON.stringify(spec, null, 2));
  const runs = join(folder, '.model-lab', 'runs');
  mkdirSync(runs, { recursive: true });
  const result = spawnSync(process.execPath, [join(repoRoot, 'dist', 'cli.js'), 'train', `${run.name}.lab.json`, '--out', runs], {
    cwd: folder,
    encoding: 'utf8',
    env: { ...process.env, MODEL_LAB_BACKEND: 'wasm' },
    timeout: run.timeoutMs,
  });
  assert.equal(result.status, 0, `model-lab train failed: ${result.stderr}`);
  return { folder, runDir: result.stdout.trim().split('\n').pop()! };
}
