// The Sampler panel in a real VS Code: a short 25GMM run (trajectory balance + exploration + local
// search) trained by the CLI in the test's setup, opened from the run's context menu in the Runs
// view; the samples over the target's contours at the last checkpoint with the states local search
// accepts beside them, a checkpoint scrubbed back to the first (whose note says how little it is
// trained), the trajectory animation played, and the Live view's miniature of the run.
// Screenshots of each step go to test-results/e2e/sampler-panel/.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Frame } from 'playwright-core';
import type { Workbench } from './workbench';
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
  /** Samples within the rule's radius of each mode (at the edited modes when `countedEdited`). */
  counts: number[];
  countedEdited: boolean;
  landscapes: number;
  landscapeEdited: boolean;
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
      counts: JSON.parse(bars.counts ?? '[]') as number[],
      countedEdited: bars.edited === 'true',
      landscapes: Number(canvas.landscapes ?? 0),
      landscapeEdited: canvas.landscapeEdited === 'true',
    };
  });
}

/** Opens the run's Sampler panel from its context menu in the Runs view; returns the panel's frame once it is built. */
async function openSamplerFromRunsView(workbench: Workbench, runId: string): Promise<Frame> {
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
  return samplerFrame(workbench, tab);
}

/** The Sampler panel in the tab titled `tab`, once its page is built. */
function samplerFrame(workbench: Workbench, tab: string): Promise<Frame> {
  return waitFor(
    async () => {
      const found = await workbench.webviewFrame(tab, { timeoutMs: 10_000 }).catch(() => undefined);
      return found && (await found.$('[data-testid="landscape"]').catch(() => null)) ? found : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 500, what: `the Sampler panel "${tab}" built in its webview` },
  );
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
    const frame = await openSamplerFromRunsView(workbench, runId);

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

/** Page coordinates of a data point (x1, x2) on the landscape canvas. */
async function landscapePoint(frame: Frame, x: number, y: number): Promise<{ x: number; y: number }> {
  const canvas = frame.locator('[data-testid="landscape"]');
  const box = (await canvas.boundingBox())!;
  const { plot, xRange, yRange } = await canvas.evaluate((el) => ({
    plot: (el as HTMLElement).dataset.frame!.split(',').map(Number),
    xRange: (el as HTMLElement).dataset.xRange!.split(',').map(Number),
    yRange: (el as HTMLElement).dataset.yRange!.split(',').map(Number),
  }));
  const [left, top, width, height] = plot;
  return {
    x: box.x + left + ((x - xRange[0]) / (xRange[1] - xRange[0])) * width,
    y: box.y + top + (1 - (y - yRange[0]) / (yRange[1] - yRange[0])) * height,
  };
}

/** The panel once it shows samples of `step` that satisfy `ready`. */
function settledPanel(frame: Frame, step: number, ready: (reading: PanelReading) => boolean, what: string): Promise<PanelReading> {
  let last: PanelReading | undefined;
  return waitFor(
    async () => {
      last = await readPanel(frame);
      return last.step === step && ready(last) ? last : undefined;
    },
    { timeoutMs: minutes(2), intervalMs: 300, what: () => `${what} (panel: ${JSON.stringify({ ...last, counts: undefined })})` },
  );
}

test('Sampler panel: a 25GMM mode dragged and weighted, "Fine-tune from this checkpoint" trains a second run from it, shown beside the first', { skip: skip ?? false, timeout: minutes(8) }, async () => {
  // A small sampler (T = 20, batch 64, 60 steps): the scenario is about the edit and the fine-tune, not the training.
  const { folder, runDir } = cliTrainedWorkspace({
    template: 'sampler-gmm25-tb-exploration.lab.json',
    name: 'e2e-sampler-finetune',
    description: 'Written by the e2e test: 25GMM, TB + exploration, T = 20, 60 steps.',
    model: { steps: 20 },
    objective: { evalSamples: 200 },
    training: { steps: 60, batchSize: 64, logEvery: 10, evalEvery: 60, checkpointEvery: 30, keepCheckpoints: 10 },
    timeoutMs: minutes(3),
  });
  const runId = runDir.split(/[\\/]/).pop()!;
  const session = await openSession({ name: 'sampler-fine-tune', vsix: modelLabVsix, workspaceFrom: folder });
  const { workbench } = session;
  try {
    const frame = await openSamplerFromRunsView(workbench, runId);
    const base = await settledPanel(frame, 60, (r) => r.results >= 1 && r.landscapes >= 1, 'samples of step 60');
    assert.equal(base.modes, 25);

    // Drag the centre mode (mode 13, at (0, 0)) to (2.5, 2.5): the contours follow, computed in the worker.
    const start = await landscapePoint(frame, 0, 0);
    const end = await landscapePoint(frame, 2.5, 2.5);
    await workbench.page.mouse.move(start.x, start.y);
    await workbench.page.mouse.down();
    for (let k = 1; k <= 8; k++) await workbench.page.mouse.move(start.x + ((end.x - start.x) * k) / 8, start.y + ((end.y - start.y) * k) / 8);
    await workbench.page.mouse.up();
    const dragged = await settledPanel(frame, 60, (r) => r.landscapeEdited && r.countedEdited && r.landscapes > base.landscapes, 'the edited landscape and counts');
    const editor = frame.locator('[data-testid="target-editor"]');
    assert.equal(await editor.getAttribute('data-selected'), '12', 'the dragged mode is selected');
    const summary = (await frame.textContent('[data-testid="edit-summary"]')) ?? '';
    const moved = /mode 13 at \((-?[\d.]+), (-?[\d.]+)\)/.exec(summary);
    assert.ok(moved, summary);
    // The mouse lands on a pixel: within a pixel's width (26 units over a few hundred pixels) of (2.5, 2.5).
    assert.ok(Math.abs(Number(moved[1]) - 2.5) < 0.3 && Math.abs(Number(moved[2]) - 2.5) < 0.3, summary);

    // Its weight from 1/25 to 1: half the target's mass sits at the dragged mode.
    await frame.locator('[data-testid="mode-weight"]').evaluate((input: HTMLInputElement) => {
      input.value = '1';
      input.dispatchEvent(new Event('change'));
    });
    const weighted = await settledPanel(frame, 60, (r) => r.results > dragged.results && r.countedEdited, 'the samples counted at the weighted modes');
    assert.match((await frame.textContent('[data-testid="edit-summary"]')) ?? '', /mode 13 weight 1\b/);
    const before = weighted.counts[12];
    console.log(`base run at step 60, counted at the edited modes: mode 13 (dragged) ${before} of 1000 samples; ${summary}`);
    console.log(`screenshot: ${await workbench.screenshot('sampler-mode-dragged')}`);

    // Fine-tune: the host writes the experiment, trains it, and opens its panel beside this one.
    const baseTab = (await workbench.editorTabTitles()).find((title) => title.startsWith('Sampler:'))!;
    await frame.click('[data-testid="fine-tune"]');
    const status = await waitFor(
      async () => {
        const text = (await frame.textContent('[data-testid="fine-tune-status"]')) ?? '';
        if (/did not start/.test(text)) throw new Error(text);
        return /^Run \S+ fine-tunes this sampler from step 60/.test(text) ? text : undefined;
      },
      { timeoutMs: minutes(1), intervalMs: 300, what: 'the fine-tune to start' },
    );
    const fineTunedId = /^Run (\S+) /.exec(status)![1];
    const file = /\(([^()]+\.lab\.json)\)/.exec(status)![1];
    const written = JSON.parse(readFileSync(join(session.workspace, file), 'utf8')) as { init: unknown; task: { name: string; means: number[][]; weights: number[] } };
    assert.deepEqual(written.init, { run: runId, step: 60 });
    assert.equal(written.task.name, 'sampler-gmm');
    assert.equal(written.task.weights[12], 1);

    const secondTab = await waitFor(
      async () => (await workbench.editorTabTitles()).find((title) => title.startsWith('Sampler:') && title !== baseTab),
      { timeoutMs: 30_000, what: 'a second Sampler tab' },
    );
    const second = await samplerFrame(workbench, secondTab);
    const fineTuned = await waitFor(
      async () => {
        const description = (await second.textContent('[data-testid="run-description"]').catch(() => '')) ?? '';
        if (!description.includes(`fine-tuned from ${runId} at step 60`)) return undefined;
        const reading = await readPanel(second);
        return reading.step === 60 && reading.results >= 1 ? reading : undefined;
      },
      { timeoutMs: minutes(3), intervalMs: 500, what: `the fine-tuned run ${fineTunedId} trained to step 60 in the panel beside` },
    );
    const after = fineTuned.counts[12];
    console.log(`fine-tuned run ${fineTunedId} at step 60: mode 13 (at the dragged place) ${after} of 1000 samples (base sampler: ${before}); ${fineTuned.covered} of 25 modes`);
    assert.ok(after > before, `the fine-tuned sampler moves towards the dragged mode: ${before} -> ${after} samples within its radius`);
    const runJson = JSON.parse(readFileSync(join(session.workspace, '.model-lab', 'runs', fineTunedId, 'run.json'), 'utf8')) as { init?: unknown };
    assert.deepEqual(runJson.init, { run: runId, step: 60 });
    console.log(`screenshot: ${await workbench.screenshot('sampler-fine-tuned-beside')}`);
  } catch (error) {
    await workbench.screenshot('failure').catch(() => {});
    throw error;
  } finally {
    await session.close();
    rmSync(folder, { recursive: true, force: true });
  }
});
