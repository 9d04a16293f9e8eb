// Run folders that another process moves into the workspace's runs folder (a terminal's `mv`, the
// CLI finishing a run) appear in the Runs view without Refresh Runs, and one moved out disappears:
// the first into a runs folder that did not exist when the window opened (a CLI's first run), then
// one more beside it. Each is moved in whole (a temp name the reader skips, then a rename), as the
// CLI writes. The shipped example runs serve as the runs (no training). Screenshots go to
// test-results/e2e/runs-watcher/.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { missingFeature, openSession } from './harness';
import { modelLabVsix, repoRoot } from './paths';
import { waitFor } from './waitFor';

const slowdown = Number(process.env.MODEL_LAB_E2E_SLOWDOWN ?? 1);
const seconds = (n: number) => Math.round(n * 1000 * slowdown);

/** Moves a copy of `runDir` into `runsDir` under its own id, whole (as a finished CLI run appears). */
function moveRunIn(runDir: string, runsDir: string, id: string): void {
  mkdirSync(runsDir, { recursive: true });
  const temp = join(runsDir, `.tmp-e2e-${id}`);
  cpSync(runDir, temp, { recursive: true });
  renameSync(temp, join(runsDir, id));
}

test('a run folder moved into the runs folder by another process appears in the Runs view without Refresh', { skip: missingFeature({ views: ['Runs'] }) ?? false, timeout: seconds(180) }, async () => {
  const examples = join(repoRoot, 'example-runs');
  const [first, second] = readdirSync(examples).sort();
  const folder = mkdtempSync(join(tmpdir(), 'model-lab-watcher-'));
  writeFileSync(join(folder, 'README.md'), 'A workspace whose runs are written by another process.\n');
  const session = await openSession({ name: 'runs-watcher', vsix: modelLabVsix, workspaceFrom: folder });
  const { workbench, workspace } = session;
  const runsDir = join(workspace, '.model-lab', 'runs');
  const rowOf = async (id: string) => (await workbench.treeRows('Runs')).find((row) => row.startsWith(`${id},`));
  try {
    await workbench.openViewContainer('Model Lab');
    // Activates the extension (no *.lab.json here) and lists the (missing) runs folder before anything moves in.
    await workbench.runCommand('Model Lab: Refresh Runs');
    assert.deepEqual((await workbench.treeRows('Runs')).filter((row) => row.includes('example-')), []);
    let t0 = Date.now();
    moveRunIn(join(examples, first), runsDir, first);
    await waitFor(() => rowOf(first), { timeoutMs: seconds(30), intervalMs: 250, what: `${first} in the Runs view (runs folder created after the window opened)` });
    console.log(`first run in a new runs folder: shown after ${Date.now() - t0} ms`);
    t0 = Date.now();
    moveRunIn(join(examples, second), runsDir, second);
    await waitFor(() => rowOf(second), { timeoutMs: seconds(30), intervalMs: 250, what: `${second} in the Runs view` });
    console.log(`second run: shown after ${Date.now() - t0} ms`);
    console.log(`screenshot: ${await workbench.screenshot('moved-in')}`);
    t0 = Date.now();
    rmSync(join(runsDir, first), { recursive: true, force: true });
    await waitFor(async () => !(await rowOf(first)), { timeoutMs: seconds(30), intervalMs: 250, what: `${first} gone from the Runs view` });
    console.log(`removed run: gone after ${Date.now() - t0} ms`);
    assert.ok(await rowOf(second));
  } finally {
    await session.close();
    rmSync(folder, { recursive: true, force: true });
  }
});
