// The Sampler panel in a real VS Code: a short 25GMM run (trajectory balance + exploration + local
// search) trained by the CLI in the test's setup, opened from the run's context menu in the Runs
// view; the samples over the target's contours at the last checkpoint with the states local search
// accepts beside them, a checkpoint scrubbed back to the first (whose note says how little it is
// trained), the trajectory animation played, and the Live view's miniature of the run.
// Screenshots of each step go to test-results/e2e/sampler-panel/.
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Frame } from 'playwright-core';
import { missingFeature, openSession } from './harness';
import { cliTrainedWorkspace } from './cliTrained';
import { modelLabVsix, repoRoot } from './paths';
import { checkpointSteps, waitFor } from './waitFor';

const RUN_NAME = 'e2e-sampler-gmm25';
const OPEN_SAMPLER = 'Open Sampler';
const slowdown = Number(process.env.MODEL_LAB_E2E_SLOWDOWN ?? 1);
const minutes = (n: number) => Math.round(n * 60_000 * slowdown);

/** The 25GMM template with local search (its panel shows the most). */
function gmm25Template(): string | undefined {
  const names = readdirSync(join(repoRoot, 'templates')).filter((name) => /^sampler-.*(gmm-?25|25-?gmm)/i.test(name) && !/sweep/.test(name));
  return names.find((name) => /-local-search\.lab\.json$/.test(name));
}

/** A workspace with a short 25GMM run trained by the CLI into its .model-lab/runs; returns it and the run folder. */
function trainedSamplerWorkspace(template: string): { folder: string; runDir: string } {
  return cliTrainedWorkspace({
    template,
    name: RUN_NAME,
    description: `Written by the e2e test: ${template}, 200 steps, a checkpoint every 50.`,
    training: { steps: 200, logEvery: 25, evalEvery: 100, checkpointEvery: 50, keepCheckpoints: 10 },
    timeoutMs: minutes(6),
  });
}

interface PanelReading {
  results: number;
  buffer: number;
  step: number;
  samples: number;
  trajectories: number;
  time: number;
  steps: number;
  note: string;
  modes: number;
  covered: number;
}

async function readPanel(frame: Frame): Promise<PanelReading> {
  // No helper functions inside: tsx would wrap them with a __name helper the page lacks.
  return frame.evaluate(() => {
    const canvas = document.querySelector<HTMLElement>('[data-testid="landscape"]')!.dataset;
    const bars = document.querySelector<HTMLElement>('[data-testid="mode-bars"]')?.dataset ?? {};
    return {
      results: Number(canvas.results ?? 0),
      buffer: Number(canvas.buffer ?? NaN),
      step: Number(canvas.step ?? NaN),
      samples: Number(canvas.samples ?? NaN),
      trajectories: Number(canvas.trajectories ?? NaN),
      time: Number(canvas.time ?? NaN),
      steps: Number(canvas.steps ?? NaN),
      note: document.querySelector('[data-testid="training-note"]')?.textContent ?? '',
      modes: Number(bars.modes ?? NaN),
      covered: Number(bars.covered ?? NaN),
    };
  });
}

const template = gmm25Template();
const skip = missingFeature({ commands: ['Model Lab: Open Sampler'], views: ['Runs', 'Live'] }) ?? (template ? undefined : 'no 25GMM local-search template in templates/');

test('Sampler panel: samples over the 25GMM contours, a checkpoint scrubbed, trajectories animated, and the Live miniature', { skip: skip ?? false, timeout: minutes(14) }, async () => {
  const { folder, runDir } = trainedSamplerWorkspace(template!);
  const steps = checkpointSteps(runDir);
  assert.ok(steps.length >= 2, `the run saved checkpoints: ${steps}`);
  // The Runs view groups runs under their experiment's name; a run's row is labelled by its id.
  const runId = runDir.split(/[\\/]/).pop()!;
  const session = await openSession({ name: 'sampler-panel', vsix: modelLabVsix, workspaceFrom: folder });
  const { workbench } = session;
  try {
    // The Runs view lists the run; its context menu offers the Sampler panel.
    await workbench.openViewContainer('Model Lab');
    await waitFor(async () => (await workbench.treeRows('Runs')).some((row) => row.startsWith(`${runId},`)), {
      timeoutMs: 60_000,
      what: `the run ${runId} in the Runs view`,
    });
    const entries = await workbench.openRowContextMenu('Runs', `${runId},`);
    assert.ok(entries.includes(OPEN_SAMPLER), entries.join(' | '));
    assert.ok(!entries.includes('Open Posterior'), `no other lab's panel: ${entries.join(' | ')}`);
    await workbench.chooseContextMenuItem(OPEN_SAMPLER);
    const tab = await waitFor(async () => (await workbench.editorTabTitles()).find((title) => title.startsWith('Sampler:')), {
      timeoutMs: 30_000,
      what: 'the Sampler panel tab',
    });
    const frame = await waitFor(
      async () => {
        const found = await workbench.webviewFrame(tab, { timeoutMs: 10_000 }).catch(() => undefined);
        return found && (await found.$('[data-testid="landscape"]').catch(() => null)) ? found : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500, what: 'the Sampler panel built in its webview' },
    );

    // The last checkpoint: 1,000 samples over the target, 48 trajectories, 25 modes counted.
    const lastStep = steps[steps.length - 1];
    let reading: PanelReading | undefined;
    reading = await waitFor(
      async () => {
        reading = await readPanel(frame);
        return reading.results >= 1 && reading.step === lastStep ? reading : undefined;
      },
      { timeoutMs: minutes(2), intervalMs: 500, what: () => `samples of step ${lastStep} (panel: ${JSON.stringify(reading)})` },
    );
    assert.equal(reading.samples, 1000);
    assert.equal(reading.trajectories, 48);
    assert.equal(reading.time, reading.steps, 'the finished paths are shown until the animation plays');
    assert.equal(reading.modes, 25, 'one bar per mode of 25GMM');
    assert.ok(reading.covered >= 0 && reading.covered <= 25, `modes covered: ${reading.covered}`);
    assert.match(reading.note, new RegExp(`step ${lastStep}`));
    assert.ok(reading.buffer > 0, `local search is on: the states it accepts are drawn (${reading.buffer})`);
    assert.match((await frame.textContent('[data-testid="run-description"]')) ?? '', /\+ exploration \+ local search/);
    assert.match((await frame.textContent('[data-testid="landscape-note"]')) ?? '', /Local search: \d+ states MALA accepted/);
    await frame.waitForSelector('[data-testid="elbo"]', { timeout: 30_000 });
    assert.match((await frame.textContent('[data-testid="true-logz"]')) ?? '', /^0$/, '25GMM is normalised: log Z = 0');
    console.log(`last checkpoint: ${JSON.stringify(reading)}; ELBO ${await frame.textContent('[data-testid="elbo"]')}`);
    console.log(`screenshot: ${await workbench.screenshot('sampler-last-checkpoint')}`);

    // Scrub to the first checkpoint: the worker's session loads it and the samples follow.
    const firstStep = steps[0];
    await frame.locator('[data-testid="step-scrubber"]').evaluate((input: HTMLInputElement) => {
      input.value = '0';
      input.dispatchEvent(new Event('change'));
    });
    const first = await waitFor(
      async () => {
        const now = await readPanel(frame);
        return now.step === firstStep && now.results > reading!.results ? now : undefined;
      },
      { timeoutMs: minutes(1), intervalMs: 500, what: `samples of the first checkpoint, step ${firstStep}` },
    );
    assert.match(first.note, firstStep === 0 ? /^Not trained yet: step 0/ : new RegExp(`^Partly trained: step ${firstStep}`));
    console.log(`first checkpoint: ${JSON.stringify(first)}`);
    console.log(`screenshot: ${await workbench.screenshot('sampler-first-checkpoint')}`);

    // Play the trajectories: the time index runs from 0 to T over many frames, then the samples return.
    await frame.click('[data-testid="play"]');
    await waitFor(async () => ((await frame.getAttribute('[data-testid="landscape"]', 'data-playing')) === 'true' ? true : undefined), {
      timeoutMs: 10_000,
      what: 'the animation to start',
    });
    console.log(`screenshot (playing): ${await workbench.screenshot('sampler-animation')}`);
    await waitFor(async () => ((await frame.getAttribute('[data-testid="landscape"]', 'data-played')) === '1' ? true : undefined), {
      timeoutMs: 30_000,
      what: 'the animation to finish',
    });
    const frames = Number(await frame.getAttribute('[data-testid="landscape"]', 'data-frames'));
    assert.ok(frames > 5, `the animation drew ${frames} frames`);
    const played = await readPanel(frame);
    assert.equal(played.time, played.steps, 'it ends at the samples');

    // The over-training charts come from the run's metrics.
    const history = (await frame.textContent('[data-testid="history-note"]')) ?? '';
    assert.doesNotMatch(history, /No metrics logged yet/);
    await frame.locator('[data-testid="history-note"]').scrollIntoViewIfNeeded();
    console.log(`over training: ${history}`);
    console.log(`screenshot: ${await workbench.screenshot('sampler-over-training')}`);

    // The Live view's miniature of the run: samples over the landscape, 25 modes.
    const shown = await waitFor(
      async () => {
        await workbench.openViewContainer('Model Lab');
        const live = await workbench.webviewFrame('Live', { timeoutMs: 10_000 });
        return live
          .evaluate(() => {
            const slot = document.querySelector<HTMLElement>('[data-testid="live-lab-miniature"]');
            if (!slot || slot.hidden || slot.dataset.kind !== 'sampler') return undefined;
            return { step: Number(slot.dataset.step), samples: Number(slot.dataset.samples), modes: Number(slot.dataset.modes), caption: document.querySelector('[data-testid="live-lab-miniature-caption"]')?.textContent ?? '' };
          })
          .catch(() => undefined);
      },
      { timeoutMs: minutes(2), intervalMs: 1_000, what: 'the Live view\'s sampler miniature' },
    );
    assert.equal(shown.step, lastStep);
    assert.equal(shown.samples, 300);
    assert.equal(shown.modes, 25);
    assert.match(shown.caption, new RegExp(`samples over log R \\(.+\\), step ${lastStep}, \\d+ of 25 modes`));
    const live = await workbench.webviewFrame('Live');
    await live.locator('[data-testid="live-open-lab"]').scrollIntoViewIfNeeded();
    console.log(`screenshot: ${await workbench.screenshotView('Live', 'sampler-live-miniature')}`);

    // Its button opens the Sampler panel of the run (already open: revealed).
    await live.locator('[data-testid="live-open-lab"]').click();
    await waitFor(async () => ((await workbench.editorTabTitles()).filter((title) => title.startsWith('Sampler:')).length === 1 ? true : undefined), {
      timeoutMs: 30_000,
      what: 'one Sampler panel tab',
    });
  } catch (error) {
    await workbench.screenshot('failure').catch(() => {});
    throw error;
  } finally {
    await session.close();
    rmSync(folder, { recursive: true, force: true });
  }
});
