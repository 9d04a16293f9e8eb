// Where the end-to-end machinery lives: the repository, the install cache that
// scripts/setup-e2e.sh fills, and the artifacts folder CI keeps after a run.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(__dirname, '..', '..');

/** Same default and override as scripts/setup-e2e.sh. */
export const e2eCacheDir = process.env.MODEL_LAB_E2E_CACHE
  ? resolve(process.env.MODEL_LAB_E2E_CACHE)
  : join(repoRoot, '.cache', 'e2e');

/** Screenshots and logs of every scenario end up here (kept by CI on failure). */
export const artifactsDir = join(repoRoot, 'test-results', 'e2e');

export const chromiumPath = process.env.MODEL_LAB_E2E_CHROMIUM ?? '/usr/bin/chromium';

/** The VSIX that `npm run package` writes (MODEL_LAB_VSIX points elsewhere, e.g. a CI artifact). */
export const modelLabVsix = process.env.MODEL_LAB_VSIX
  ? resolve(process.env.MODEL_LAB_VSIX)
  : join(repoRoot, 'dist-vsix', 'model-lab.vsix');

/** code-server's Node entry point; throws a message that says how to get it. */
export function codeServerEntry(): string {
  const entry = join(e2eCacheDir, 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  if (!existsSync(entry)) {
    throw new Error(`code-server is not installed at ${entry}; run scripts/setup-e2e.sh first`);
  }
  return entry;
}

export function requireChromium(): string {
  if (!existsSync(chromiumPath)) {
    throw new Error(`Chromium not found at ${chromiumPath}; run scripts/setup-e2e.sh first`);
  }
  return chromiumPath;
}
