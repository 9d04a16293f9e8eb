// The New Experiment picker grouped by lab, then the dashboard's overlay chart in a real VS Code:
// a short retrieval run trained by the CLI in the test's setup, its dashboard opened from the palette, the training loss and a held-out metric
// ticked into one chart (both curves there, axis titles naming the step and both metrics), then
// the wall-clock x axis, and the choices kept when the page is rebuilt (the panel hidden and shown).
// Screenshots go to test-results/e2e/dashboard-overlay/.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Frame } from 'playwright-core';
import { missingFeature, openSession } from './harness';
import { cliTrainedWorkspace } from './cliTrained';
import { modelLabVsix } from './paths';
import { displayNameOf } from './runNames';
import { waitFor } from './waitFor';

const RUN_NAME = 'e2e-overlay';
const OPEN_RUN = 'Model Lab: Open Run';
const NEW_EXPERIMENT = 'Model Lab: New Experiment from Template';
const slowdown = Number(process.env.MODEL_LAB_E2E_SLOWDOWN ?? 1);
const minutes = (n: number) => Math.round(n * 60_000 * slowdown);

/** A workspace with a 60-step retrieval run (loss every 5 steps, held-out L1 every 20) trained by the CLI. */
function trainedWorkspace(): { folder: string; runDir: string } {
  return cliTrainedWorkspace({
    template: 'retrieval-mha-quick.lab.json',
    name: RUN_NAME,
    description: 'Written by the e2e test: retrieval-mha-quick, 60 steps.',
    training: { steps: 60, logEvery: 5, evalEvery: 20, evalBatches: 1, checkpointEvery: 60 },
    timeoutMs: minutes(4),
  });
}

interface OverlayReading {
  shown: boolean;
  title: string;
  xTitle: string;
  yTitle: string;
  /** data-testid suffix (metric) -> points, of the overlay chart's series of the run. */
  series: Record<string, number>;
  legend: string[];
  /** False once the page was rebuilt (the marker set before a reload is gone). */
  marked: boolean;
}

async function readOverlay(frame: Frame, runId: string): Promise<OverlayReading> {
  return frame.evaluate((runId) => {
    const card = document.querySelector<HTMLElement>('[data-testid="overlay-card"]');
    const chart = card?.querySelector<HTMLElement>('[data-testid="chart-overlay"]');
    const prefix = `series-${runId}-`;
    const series: Record<string, number> = {};
    for (const el of card?.querySelectorAll<HTMLElement>(`[data-testid^="${prefix}"]`) ?? []) {
      series[el.dataset.testid!.slice(prefix.length)] = Number(el.dataset.points);
    }
    return {
      shown: Boolean(card && card.isConnected),
      title: card?.querySelector('h2')?.textContent ?? '',
      xTitle: chart?.dataset.xTitle ?? '',
      yTitle: chart?.dataset.yTitle ?? '',
      series,
      legend: [...(card?.querySelectorAll('[data-testid="overlay-legend"] li') ?? [])].map((li) => li.textContent ?? ''),
      marked: (window as unknown as { beforeReload?: boolean }).beforeReload === true,
    };
  }, runId);
}

/** Points of `metric` in metrics.jsonl. */
function pointsOf(runDir: string, metric: string): number {
  return readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').split('\n').filter((line) => line.trim() && metric in JSON.parse(line).values).length;
}

const skip = missingFeature({ commands: [OPEN_RUN, NEW_EXPERIMENT] });

test('templates grouped by lab in the picker; dashboard: training loss and held-out L1 overlaid in one chart with axis titles, a wall-clock axis, choices kept', { skip: skip ?? false, timeout: minutes(10) }, async () => {
  const { folder, runDir } = trainedWorkspace();
  const runId = runDir.split(/[\\/]/).pop()!;
  const heldOut = Object.keys(JSON.parse(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').pop()!).values)
    .filter((metric) => metric.startsWith('eval/') && metric.endsWith('/l1'))
    .sort()[0];
  assert.ok(heldOut, 'the run logged a held-out L1');
  const session = await openSession({ name: 'dashboard-overlay', vsix: modelLabVsix, workspaceFrom: folder });
  const { workbench } = session;
  try {
    // The template picker: a separator per lab (the manifests' labels), a name and one line each.
    await workbench.runCommand(NEW_EXPERIMENT);
    const picker = await waitFor(
      async () => {
        const rows = await workbench.page.locator('.quick-input-widget .monaco-list-row').evaluateAll((els) =>
          els.map((row) => ({
            separator: row.querySelector('.quick-input-list-separator')?.textContent?.trim() ?? '',
            label: row.querySelector('.label-name')?.textContent?.trim() ?? '',
            // The detail line's element has no stable class across VS Code versions: the row's text holds it.
            text: row.textContent ?? '',
          })),
        );
        return rows.some((row) => row.label === 'retrieval-mha-quick') ? rows : undefined;
      },
      { timeoutMs: 30_000, what: 'the template picker' },
    );
    console.log(`template picker rows: ${JSON.stringify(picker)}; screenshot: ${await workbench.screenshot('template-picker')}`);
    const separators = picker.map((row) => row.separator).filter(Boolean);
    assert.ok(separators.includes('Compositional attention'), `the retrieval lab's separator: ${JSON.stringify(separators)}`);
    const quick = picker.find((row) => row.label === 'retrieval-mha-quick')!;
    assert.match(quick.text, /A first try: Contextual Retrieval/);
    assert.doesNotMatch(quick.text, /measured|minutes|per step|Use retrieval-mha for a real run/i, 'the detail line is the first sentence only');
    await workbench.page.keyboard.press('Escape');

    await workbench.runCommand(OPEN_RUN);
    // The run is picked, and its tab titled, by its display name (experiment and start time), not its folder id.
    await workbench.pickQuickItem(displayNameOf(runDir));
    const tab = `Dashboard: ${displayNameOf(runDir)}`;
    assert.notEqual(displayNameOf(runDir), runId);
    await workbench.editorTab(tab).first().waitFor({ state: 'visible', timeout: 30_000 });
    const frame = await waitFor(
      async () => {
        const found = await workbench.webviewFrame(tab, { timeoutMs: 10_000 }).catch(() => undefined);
        return found && (await found.$(`[data-testid="overlay-toggle-${heldOut}"]`).catch(() => null)) ? found : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: `the dashboard with a ${heldOut} chart` },
    );
    // Each metric's own chart already titles its axes: step, and the metric.
    const lossChart = frame.locator('[data-testid="chart-train/loss"]');
    assert.equal(await lossChart.getAttribute('data-x-title'), 'step');
    assert.equal(await lossChart.getAttribute('data-y-title'), 'train/loss');
    assert.equal((await readOverlay(frame, runId)).shown, false, 'no overlay chart before two metrics are ticked');

    await frame.click('[data-testid="overlay-toggle-train/loss"]');
    await frame.click(`[data-testid="overlay-toggle-${heldOut}"]`);
    const expected = { 'train/loss': pointsOf(runDir, 'train/loss'), [heldOut]: pointsOf(runDir, heldOut) };
    let reading: OverlayReading | undefined;
    reading = await waitFor(
      async () => {
        reading = await readOverlay(frame, runId);
        return reading.shown && Object.keys(reading.series).length === 2 ? reading : undefined;
      },
      { timeoutMs: 30_000, what: () => `the overlay chart with both metrics (${JSON.stringify(reading)})` },
    );
    assert.deepEqual(reading.series, expected, 'every logged point of both metrics is in the one chart');
    assert.equal(reading.title, `train/loss · ${heldOut}`);
    assert.equal(reading.xTitle, 'step');
    assert.equal(reading.yTitle, `train/loss, ${heldOut}`);
    assert.deepEqual(reading.legend, ['train/loss', heldOut], 'a legend says which colour is which metric');
    console.log(`overlay: ${JSON.stringify(reading)}; screenshot: ${await workbench.screenshot('overlay-step')}`);

    // Wall-clock x axis: the overlay (and every chart) titles it, with the same points.
    await frame.click('#wall-clock');
    reading = await waitFor(
      async () => {
        reading = await readOverlay(frame, runId);
        return reading.xTitle === 'wall-clock time (s)' ? reading : undefined;
      },
      { timeoutMs: 30_000, what: () => `the wall-clock x axis (${JSON.stringify(reading)})` },
    );
    assert.deepEqual(reading.series, expected);
    assert.equal(await lossChart.getAttribute('data-x-title'), 'wall-clock time (s)');
    console.log(`screenshot: ${await workbench.screenshot('overlay-wall-clock')}`);

    // The choices live in the page's saved state: a rebuilt page (panel moved out of view and
    // back, the webview reloaded by the command) shows the overlay and the wall-clock axis again.
    await frame.evaluate(() => {
      (window as unknown as { beforeReload?: boolean }).beforeReload = true;
    });
    await workbench.runCommand('Developer: Reload Webviews');
    const reloaded = await waitFor(
      async () => {
        const found = await workbench.webviewFrame(tab, { timeoutMs: 10_000 }).catch(() => undefined);
        if (!found) return undefined;
        const now = await readOverlay(found, runId).catch(() => undefined);
        return now && !now.marked && now.shown && Object.keys(now.series).length === 2 ? now : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'the overlay chart after the webview reloaded' },
    );
    assert.equal(reloaded.xTitle, 'wall-clock time (s)');
    assert.deepEqual(reloaded.series, expected);
  } finally {
    await session.close();
  }
});
