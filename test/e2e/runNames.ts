// The name a run goes by in VS Code (pickers, tab titles), read from its folder as the extension
// reads it: scenarios pick and find runs by what a person sees.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runDisplayName } from '../../src/shared/runs';

export function displayNameOf(runDir: string): string {
  const run = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as { id: string; name: string; experiment: string };
  return runDisplayName(run);
}
