// Continue Training in a real VS Code (issue 22 item 6): a short retrieval run trained by the CLI in
// the test's setup; from its context menu in the Runs view, Continue Training asks how many steps,
// writes `<experiment>-continued.lab.json` with init = the run's last checkpoint and trains it;
// the new run completes, the dashboard of the two shows the continued curve joined to the first
// (its points from the init step on, and on the wall-clock axis from the first's time there) with a
// link to the run it continues, the Runs view says which run it continues, and the link opens that run. Screenshots go to test-results/e2e/continue-training/.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import type { Frame } from 'playwright-core';
import { missingFeature, openSession } from './harness';
import { cliTrainedWorkspace } from './cliTrained';
import { modelLabVsix } from './paths';
import { displayNameOf } from './runNames';
import { listRunDirs, readMetricLines, waitFor, waitForNewRun, waitForRunState } from './waitFor';

const RUN_NAME = 'e2e-continue';
const CONTINUE = 'Continue Training';
const FIRST_STEPS = 40;
const MORE_STEPS = 30;
const slowdown = Number(process.env.MODEL_LAB_E2E_SLOWDOWN ?? 1);
const minutes = (n: number) => Math.round(n * 60_000 * slowdown);

/** The x range of a run's series in a chart of the dashboard (its hidden test hook), once it has points. */
async function seriesRange(frame: Frame, runId: string, metric: string): Promise<{ points: number; firstX: number; lastX: number } | undefined> {
  return frame.evaluate(({ runId, metric }) => {
    const hook = document.querySelector<HTMLElement>(`[data-testid="chart-${metric}"] [data-testid="series-${runId}-${metric}"]`);
    if (!hook?.dataset.firstX) return undefined;
    return { points: Number(hook.dataset.points), firstX: Number(hook.dataset.firstX), lastX: Number(hook.dataset.lastX) };
  }, { runId, metric });
}

const skip = missingFeature({ commands: [`Model Lab: ${CONTINUE}`], views: ['Runs'] });

test('Continue Training from the Runs view: a new run from the last checkpoint, its curve joined to the first in the dashboard, linked both ways', { skip: skip ?? false, timeout: minutes(8) }, async () => {
  const { folder, runDir: firstDir } = cliTrainedWorkspace({
    template: 'retrieval-mha-quick.lab.json',
    name: RUN_NAME,
    description: `Written by the e2e test: retrieval-mha-quick, ${FIRST_STEPS} steps, then continued.`,
    training: { steps: FIRST_STEPS, logEvery: 5, evalEvery: 20, evalBatches: 1, checkpointEvery: 20 },
    timeoutMs: minutes(3),
  });
  const firstId = basename(firstDir);
  const firstName = displayNameOf(firstDir);
  const session = await openSession({ name: 'continue-training', vsix: modelLabVsix, workspaceFrom: folder });
  const { workbench, workspace } = session;
  try {
    await workbench.openViewContainer('Model Lab');
    await waitFor(async () => (await workbench.treeRows('Runs')).some((row) => row.startsWith(`${firstId},`)), {
      timeoutMs: 60_000,
      what: `the run ${firstId} in the Runs view`,
    });
    const known = listRunDirs(workspace);
    const entries = await workbench.openRowContextMenu('Runs', `${firstId},`);
    assert.ok(entries.includes(CONTINUE), `the context menu of a completed run offers ${CONTINUE}: ${entries.join(' | ')}`);
    await workbench.chooseContextMenuItem(CONTINUE);
    console.log(`screenshot: ${await workbench.screenshot('steps-question')}`);
    await workbench.answerInput(String(MORE_STEPS));

    // The new experiment file beside the first (in the workspace), starting from its last checkpoint.
    const secondDir = await waitForNewRun(workspace, known, minutes(1));
    const secondId = basename(secondDir);
    const file = join(workspace, `${RUN_NAME}-continued.lab.json`);
    assert.ok(existsSync(file), `${basename(file)} was written`);
    const written = JSON.parse(readFileSync(file, 'utf8')) as { init?: unknown; training: { steps: number }; name: string };
    assert.deepEqual(written.init, { run: firstId, step: FIRST_STEPS });
    assert.equal(written.training.steps, MORE_STEPS);
    assert.equal(await waitForRunState(secondDir, ['completed', 'failed'], minutes(3)), 'completed');
    assert.deepEqual(JSON.parse(readFileSync(join(secondDir, 'run.json'), 'utf8')).init, { run: firstId, step: FIRST_STEPS });

    // The dashboard of the two (opened by the command): the second curve starts where the first ended.
    const tab = 'Compare 2 runs';
    await workbench.editorTab(tab).first().waitFor({ state: 'visible', timeout: 30_000 });
    const frame = await waitFor(
      async () => {
        const found = await workbench.webviewFrame(tab, { timeoutMs: 10_000 }).catch(() => undefined);
        return found && (await found.$('[data-testid="chart-train/loss"]').catch(() => null)) ? found : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'the dashboard of the two runs' },
    );
    const lossPoints = readMetricLines(secondDir).filter((line) => 'train/loss' in line.values).length;
    let second: Awaited<ReturnType<typeof seriesRange>>;
    second = await waitFor(
      async () => {
        second = await seriesRange(frame, secondId, 'train/loss');
        return second && second.points === lossPoints ? second : undefined;
      },
      { timeoutMs: 60_000, what: () => `every train/loss point of the continued run in the dashboard (${JSON.stringify(second)})` },
    );
    const first = await seriesRange(frame, firstId, 'train/loss');
    assert.deepEqual(first && { firstX: first.firstX, lastX: first.lastX }, { firstX: 5, lastX: FIRST_STEPS });
    assert.deepEqual({ firstX: second.firstX, lastX: second.lastX }, { firstX: FIRST_STEPS + 5, lastX: FIRST_STEPS + MORE_STEPS }, 'the continued curve is drawn from the init step on');
    const link = frame.locator(`[data-testid="run-continues-${secondId}"]`);
    assert.equal(await link.textContent(), firstName);
    assert.match((await link.locator('xpath=..').textContent()) ?? '', new RegExp(`continues .* at step ${FIRST_STEPS}$`));
    console.log(`joined series: first ${JSON.stringify(first)}, continued ${JSON.stringify(second)}; screenshot: ${await workbench.screenshot('dashboard-joined')}`);

    // On the wall-clock axis too the continued curve starts after the first ends (at the time the
    // first had trained by its step 40, plus its own time to its first logged step), not at 0.
    await frame.click('#wall-clock');
    const onTime = await waitFor(
      async () => {
        if ((await frame.locator('[data-testid="chart-train/loss"]').getAttribute('data-x-title')) !== 'wall-clock time (s)') return undefined;
        const [a, b] = [await seriesRange(frame, firstId, 'train/loss'), await seriesRange(frame, secondId, 'train/loss')];
        return a && b ? { first: a, second: b } : undefined;
      },
      { timeoutMs: 30_000, what: 'the wall-clock x axis of the two runs' },
    );
    assert.ok(onTime.second.firstX > onTime.first.lastX, `the continued run starts at ${onTime.second.firstX} s, after the first's last point at ${onTime.first.lastX} s`);
    console.log(`wall-clock series: ${JSON.stringify(onTime)}; screenshot: ${await workbench.screenshot('dashboard-joined-wall-clock')}`);
    await frame.click('#wall-clock');

    // The Runs view says which run the new one continues.
    const row = await waitFor(async () => (await workbench.treeRows('Runs')).find((label) => label.startsWith(`${secondId},`)), {
      timeoutMs: 30_000,
      what: `the run ${secondId} in the Runs view`,
    });
    assert.match(row, new RegExp(`continues ${firstName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} at step ${FIRST_STEPS}`));
    // Nested under the run it continues, its row shows the steps it took the joined curve over, whole (not cut off).
    const shown = workbench.page.locator(`.monaco-list-row[aria-label^="${secondId},"]`).first();
    assert.equal(await shown.getAttribute('aria-level'), '3', 'one level below the run it continues');
    assert.equal((await shown.locator('.label-description').textContent())?.trim(), `${FIRST_STEPS}→${FIRST_STEPS + MORE_STEPS}`);
    const fits = await shown.locator('.monaco-icon-label-container').evaluate((el) => el.scrollWidth <= el.clientWidth);
    assert.ok(fits, 'the row\'s label and description fit the side bar');
    console.log(`runs view row: ${row}; screenshot: ${await workbench.screenshotView('Runs', 'runs-view')}`);

    // The dashboard's link opens the run it continues; so does the link in the run's tooltip in the Runs view.
    const parentTab = workbench.editorTab(`Dashboard: ${firstName}`);
    await link.click();
    await parentTab.first().waitFor({ state: 'visible', timeout: 30_000 });
    console.log(`screenshot: ${await workbench.screenshot('parent-opened')}`);
    await workbench.runCommand('View: Close Editor');
    await parentTab.first().waitFor({ state: 'detached', timeout: 30_000 });
    const runsPane = workbench.page.locator('.pane').filter({ has: workbench.page.locator('.pane-header .title:text-matches("^Runs$", "i")') });
    const tooltipLink = workbench.page.locator('.workbench-hover a, .monaco-hover a').filter({ hasText: firstName });
    let shownTooltip = false;
    // A hover can close as the pointer travels to it: hover the row and click its link again until the run opens.
    await waitFor(
      async () => {
        if (await parentTab.count()) return true;
        await runsPane.locator(`.monaco-list-row[aria-label^="${secondId},"]`).first().hover();
        const visible = await tooltipLink.first().waitFor({ state: 'visible', timeout: 5_000 }).then(() => true, () => false);
        if (!visible) return undefined;
        assert.match((await tooltipLink.first().getAttribute('data-href')) ?? '', new RegExp(`^command:modelLab\\.openRun\\?.*${firstId}`));
        if (!shownTooltip) console.log(`screenshot: ${await workbench.screenshot('runs-view-tooltip')}`);
        shownTooltip = true;
        await tooltipLink.first().click({ timeout: 5_000 }).catch(() => undefined);
        return (await parentTab.count()) > 0 || undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1_000, what: 'the Runs view tooltip\'s link to open the run it continues' },
    );
  } finally {
    await session.close();
  }
});
