// Model Lab in a real VS Code, driven as a researcher would: palette, editor, side bar,
// dashboard, Problems panel. Each scenario gets a fresh VS Code profile and a fresh copy of
// examples/. A scenario whose feature is not in the extension yet is skipped with the reason.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { missingFeature, openSession, type Needs, type Session } from './harness';
import { modelLabVsix } from './paths';
import { displayNameOf } from './runNames';
import { parseSpec } from '../../src/core/spec/validate';
import { problemMessage } from '../../src/host/editor/specProblems';
import {
  checkpointSteps,
  listRunDirs,
  readMetricLines,
  readStatus,
  runState,
  waitFor,
  waitForNewRun,
  waitForRunState,
} from './waitFor';
import type { Workbench } from './workbench';

const COMMANDS = {
  newExperiment: 'Model Lab: New Experiment from Template',
  train: 'Model Lab: Train',
  stop: 'Model Lab: Stop Run',
  resume: 'Model Lab: Resume Run',
  openRun: 'Model Lab: Open Run',
  openWalkthrough: 'Model Lab: Open Walkthrough',
} as const;

const QUICK_SPEC = 'retrieval-mha-quick.lab.json';
/** Written by the scenarios into their workspace copy: long enough to stop, reload and resume. */
const LONG_SPEC = 'e2e-long.lab.json';
/** Long enough (seconds, not minutes) for its progress notification to be seen before it completes. */
const PROGRESS_SPEC = 'e2e-progress.lab.json';

/** Minutes scale with the machine: CI may set MODEL_LAB_E2E_SLOWDOWN=2 on a busy runner. */
const slowdown = Number(process.env.MODEL_LAB_E2E_SLOWDOWN ?? 1);
const minutes = (n: number) => Math.round(n * 60_000 * slowdown);

/** Declares a scenario that opens its own VS Code, or skips while `needs` are not met. */
function scenario(
  name: string,
  needs: Needs,
  timeoutMs: number,
  body: (session: Session) => Promise<void>,
  options: { settings?: Record<string, unknown>; workspaceSettings?: Record<string, unknown> } = {},
): void {
  const skip = missingFeature(needs);
  test(name, { skip: skip ?? false, timeout: timeoutMs }, async () => {
    const session = await openSession({ name: slug(name), vsix: modelLabVsix, settings: options.settings, workspaceSettings: options.workspaceSettings });
    try {
      await body(session);
    } catch (error) {
      await session.workbench.screenshot('failure').catch(() => {});
      throw error;
    } finally {
      await session.close();
    }
  });
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
}

/** The quick example with more steps and frequent checkpoints, under another name. */
/** The quick experiment with other training settings, written into the workspace; returns its file name. */
function writeQuickVariant(workspace: string, file: string, description: string, training: Record<string, number>): string {
  const spec = JSON.parse(readFileSync(join(workspace, QUICK_SPEC), 'utf8')) as Record<string, any>;
  spec.name = file.replace('.lab.json', '');
  spec.description = `Written by the end-to-end tests: ${description}`;
  spec.training = { ...spec.training, ...training };
  writeFileSync(join(workspace, file), JSON.stringify(spec, null, 2));
  return file;
}

// Long enough that no scenario sees it end: the quick model trains at about 2.4 ms a step on the
// wasm kernels, and two runs on two workers must both still be training after a minute or more.
const writeLongSpec = (workspace: string) =>
  writeQuickVariant(workspace, LONG_SPEC, 'a run long enough to stop, reload and resume.', { steps: 200_000, logEvery: 5, evalEvery: 100, checkpointEvery: 25 });

// The quick experiment's 300 steps take about 3 s on the wasm kernels: its progress notification
// can come and go between two looks.
const writeProgressSpec = (workspace: string) =>
  writeQuickVariant(workspace, PROGRESS_SPEC, 'a run long enough to watch its progress.', { steps: 3_000 });

/** Opens an experiment file in the editor and trains it from the palette; returns the new run folder. */
async function trainFromPalette(session: Session, specFile: string): Promise<string> {
  const known = listRunDirs(session.workspace);
  await session.workbench.openFile(specFile);
  await session.workbench.runCommand(COMMANDS.train, { timeoutMs: 60_000 });
  // Train takes the active editor's experiment; if the extension host has not yet seen the editor
  // just opened as active, the command asks which experiment instead (as it does for a user with
  // none open): answer with the same file.
  await session.workbench.pickQuickItem(basename(specFile), { timeoutMs: 3_000 }).catch(() => undefined);
  const runDir = await waitForNewRun(session.workspace, known, 60_000);
  await waitForRunState(runDir, ['running', 'completed'], minutes(2));
  return runDir;
}

function runIdOf(runDir: string): string {
  return runDir.split(/[\\/]/).pop() ?? runDir;
}

/** The row of the Runs tree for a run (aria-label "<name>, <state>, <description>"). */
async function runRow(workbench: Workbench, runId: string): Promise<string | undefined> {
  await workbench.openViewContainer('Model Lab');
  return (await workbench.treeRows('Runs')).find((row) => row.startsWith(`${runId},`));
}

async function waitForRunRow(workbench: Workbench, runId: string, pattern: RegExp, timeoutMs: number): Promise<string> {
  let last: string | undefined;
  return waitFor(
    async () => {
      last = await runRow(workbench, runId);
      return last !== undefined && pattern.test(last) ? last : undefined;
    },
    { timeoutMs, intervalMs: 1_000, what: () => `Runs tree row of ${runId} to match ${pattern} (it is "${last ?? 'absent'}")` },
  );
}

// ------------------------------------------------------------------------------- scenarios

/** Waits until `file` holds a whole JSON experiment (it can exist a moment before its text is written). */
function waitForExperimentFile(file: string): Promise<{ name?: string; kind?: string }> {
  return waitFor(
    () => {
      try {
        return existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { name?: string; kind?: string });
      } catch {
        return undefined;
      }
    },
    { timeoutMs: 15_000, what: `${file} to be created with a JSON experiment` },
  );
}

scenario(
  'New Experiment from Template creates an experiment file and opens it, from the walkthrough and from the palette',
  { commands: [COMMANDS.newExperiment, COMMANDS.openWalkthrough], files: ['templates/retrieval-mha-quick.lab.json'] },
  minutes(3),
  async ({ workbench, workspace }) => {
    // The walkthrough's button: focus goes back to the walkthrough page while the pick and the
    // file-name box are open, which closed them before they kept focus (ignoreFocusOut).
    await workbench.runCommand(COMMANDS.openWalkthrough);
    const step = workbench.page.locator('.getting-started-step').filter({ hasText: 'Create an experiment from a template' });
    await step.first().waitFor({ state: 'visible', timeout: 30_000 });
    await step.first().locator('.step-title, h3').first().click();
    const button = step.first().locator('.button-container .monaco-button, a.button-link').filter({ hasText: 'New Experiment from Template' });
    await button.first().click({ timeout: 15_000 });
    await workbench.pickQuickItem('retrieval-mha-quick');
    await workbench.answerInput('from-walkthrough.lab.json');
    const fromWalkthrough = await waitForExperimentFile(join(workspace, 'from-walkthrough.lab.json'));
    assert.equal(fromWalkthrough.name, 'from-walkthrough', 'the experiment is named after its file');
    await workbench.editorTab('from-walkthrough.lab.json').first().waitFor({ state: 'visible', timeout: 15_000 });
    await workbench.screenshot('new-experiment-walkthrough');

    await workbench.runCommand(COMMANDS.newExperiment);
    await workbench.pickQuickItem('retrieval-mha-quick');
    await workbench.answerInput('my-experiment.lab.json');
    const spec = await waitForExperimentFile(join(workspace, 'my-experiment.lab.json'));
    assert.equal(spec.name, 'my-experiment', 'the experiment is named after its file');
    assert.equal(spec.kind, 'train');
    await workbench.editorTab('my-experiment.lab.json').first().waitFor({ state: 'visible', timeout: 15_000 });
    await workbench.screenshot('new-experiment');
  },
);

scenario(
  'Train from the palette shows progress and completes the run',
  { commands: [COMMANDS.train], views: ['Runs'], files: [`examples/${QUICK_SPEC}`] },
  minutes(10),
  async (session) => {
    const { workbench } = session;
    const runDir = await trainFromPalette(session, writeProgressSpec(session.workspace));
    const toast = await waitFor(
      async () => (await workbench.notifications()).find((text) => /Training/.test(text)),
      { timeoutMs: 60_000, what: 'a "Training ..." progress notification' },
    );
    assert.match(toast, /Training/);
    await workbench.screenshot('train-progress');

    // Once training is under way the notification gives way to the status bar: progress with the
    // time left measured from the run's own steps, and a Stop button next to it.
    const eta = await waitFor(
      async () => (await workbench.statusBarItems()).find((item) => /step \d+\/3000 .*\d s left/.test(item.text)),
      { timeoutMs: minutes(3), what: 'the status bar to show the run\'s progress and time left ("… s left")' },
    );
    assert.match(eta.text, /left/);
    assert.ok((await workbench.statusBarItems()).some((item) => /^Stop run /.test(item.label)), 'a Stop button in the status bar');
    // The Live view says the same: steps, speed, time left and elapsed (no time left once the
    // run has completed, which it may have by the time the view has loaded).
    await workbench.openViewContainer('Model Lab');
    const line = await waitFor(
      async () => {
        const frame = await workbench.webviewFrame('Live', { timeoutMs: 10_000 });
        const text = await frame.evaluate(() => document.querySelector('[data-testid="live-progress"]')?.textContent ?? '');
        return /steps\/s · (.* left · )?.* elapsed$/.test(text) ? text : undefined;
      },
      { timeoutMs: minutes(2), intervalMs: 500, what: 'the Live view to show steps/s and the time elapsed' },
    );
    assert.match(line, /^[\d,]+ \/ 3,000 steps · /);
    await workbench.screenshot('train-progress-eta');

    await waitForRunState(runDir, ['completed'], minutes(8));
    const status = readStatus(runDir) as { step: number; totalSteps: number };
    assert.equal(status.step, status.totalSteps, 'a completed run reached its last step');
    const metrics = readMetricLines(runDir);
    assert.ok(metrics.length > 0, 'metrics.jsonl has records');
    assert.ok(metrics.every((line) => Number.isFinite(line.step) && line.step <= status.totalSteps));

    const row = await waitForRunRow(workbench, runIdOf(runDir), /completed/, 30_000);
    assert.ok(row);
    // The side bar's Live view (opened with the Runs view) shows the finished run too.
    await waitForLive(workbench, (live) => live.runId === runIdOf(runDir) && live.state === 'completed', 60_000, 'the completed run');
    await workbench.screenshot('train-completed');
  },
);

scenario(
  'Stop Run cancels a training run midway and leaves a readable run folder',
  { commands: [COMMANDS.train, COMMANDS.stop], files: [`examples/${QUICK_SPEC}`] },
  minutes(6),
  async (session) => {
    const { workbench } = session;
    const runDir = await trainFromPalette(session, writeLongSpec(session.workspace));
    await waitFor(() => readMetricLines(runDir).length >= 3, { timeoutMs: minutes(2), what: '3 metric records' });

    await workbench.runCommand(COMMANDS.stop);
    await workbench.pickQuickItem(displayNameOf(runDir));
    await waitForRunState(runDir, ['cancelled'], minutes(1));

    const status = readStatus(runDir) as { step: number; totalSteps: number };
    assert.ok(status.step > 0 && status.step < status.totalSteps, `stopped midway (step ${status.step} of ${status.totalSteps})`);
    for (const file of ['run.json', 'spec.json', 'status.json']) {
      assert.doesNotThrow(() => JSON.parse(readFileSync(join(runDir, file), 'utf8')), `${file} is valid JSON`);
    }
    const metrics = readMetricLines(runDir);
    assert.ok(metrics.length >= 3 && metrics.every((line) => line.step <= status.step));
    await waitForRunRow(workbench, runIdOf(runDir), /cancelled/, 30_000);
    await workbench.screenshot('stop-cancelled');
  },
);

scenario(
  'with two workers, stopping the second run midway leaves the first one training',
  { commands: [COMMANDS.train, COMMANDS.stop], views: ['Runs'], files: [`examples/${QUICK_SPEC}`] },
  minutes(8),
  async (session) => {
    const { workbench } = session;
    const spec = writeLongSpec(session.workspace);
    const first = await trainFromPalette(session, spec);
    await waitFor(() => readMetricLines(first).length >= 2, { timeoutMs: minutes(2), what: '2 metric records of the first run' });
    const second = await trainFromPalette(session, spec);
    await waitFor(() => readMetricLines(second).length >= 2, { timeoutMs: minutes(2), what: '2 metric records of the second run' });
    assert.equal(runState(first), 'running', 'both runs train at the same time (modelLab.workers = 2)');
    assert.equal(runState(second), 'running');
    await workbench.screenshot('two-runs-training');

    await workbench.runCommand(COMMANDS.stop);
    await workbench.pickQuickItem(displayNameOf(second));
    await waitForRunState(second, ['cancelled'], minutes(1));
    const firstAtStop = (readStatus(first) as { step: number }).step;

    // The stopped run's folder stays readable, with what it had written up to its last step.
    const status = readStatus(second) as { state: string; step: number; totalSteps: number };
    assert.equal(status.state, 'cancelled');
    assert.ok(status.step > 0 && status.step < status.totalSteps, `stopped midway (step ${status.step} of ${status.totalSteps})`);
    for (const file of ['run.json', 'spec.json', 'status.json']) {
      assert.doesNotThrow(() => JSON.parse(readFileSync(join(second, file), 'utf8')), `${file} of the stopped run is valid JSON`);
    }
    const metrics = readMetricLines(second);
    assert.ok(metrics.length >= 2 && metrics.every((line) => line.step <= status.step), 'its metrics end at its last step');

    // The first run keeps training: its step and its metrics.jsonl keep growing.
    const firstMetricsAtStop = readMetricLines(first).length;
    await waitFor(
      () => {
        const now = readStatus(first) as { state: string; step: number } | undefined;
        return now?.state === 'running' && now.step > firstAtStop && readMetricLines(first).length > firstMetricsAtStop;
      },
      { timeoutMs: minutes(2), what: () => `the first run to train on beyond step ${firstAtStop} (it is ${runState(first)})` },
    );
    await waitForRunRow(workbench, runIdOf(second), /cancelled/, 30_000);
    await waitForRunRow(workbench, runIdOf(first), /running/, 30_000);
    assert.equal(runState(second), 'cancelled', 'the stopped run stays cancelled');
    await workbench.screenshot('second-run-cancelled');
  },
  // In the user's settings, as a user would set it, and in the folder's: a machine-overridable
  // setting is not always visible from the User file in code-server's remote window.
  { settings: { 'modelLab.workers': 2 }, workspaceSettings: { 'modelLab.workers': 2 } },
);

/** Opens the run's dashboard from the palette (the run picked, and the tab titled, by its display name) and returns the webview document. */
async function openDashboard(workbench: Workbench, runDir: string) {
  await workbench.runCommand(COMMANDS.openRun);
  await workbench.pickQuickItem(displayNameOf(runDir));
  const title = `Dashboard: ${displayNameOf(runDir)}`;
  await workbench.editorTab(title).first().waitFor({ state: 'visible', timeout: 30_000 });
  return { title, frame: await workbench.webviewFrame(title) };
}

interface SeriesReading {
  metric: string;
  points: number;
  last: number;
}

/** Reads one series element of the dashboard in a single step (points and last value agree). */
async function readSeries(workbench: Workbench, title: string, runId: string, metric?: string): Promise<SeriesReading | undefined> {
  const frame = await workbench.webviewFrame(title);
  const prefix = `series-${runId}-`;
  return frame.evaluate(
    ({ prefix, metric }) => {
      const elements = [...document.querySelectorAll(`[data-testid^="${prefix}"]`)];
      const el = metric
        ? elements.find((e) => e.getAttribute('data-testid') === `${prefix}${metric}`)
        : elements.find((e) => e.getAttribute('data-testid')?.endsWith('loss')) ?? elements[0];
      if (!el) return undefined;
      return {
        metric: (el.getAttribute('data-testid') ?? '').slice(prefix.length),
        points: Number(el.getAttribute('data-points')),
        last: Number(el.getAttribute('data-last')),
      };
    },
    { prefix, metric },
  );
}

/** The n-th (1-based) value of `metric` in metrics.jsonl. */
function nthMetricValue(runDir: string, metric: string, n: number): number | undefined {
  return readMetricLines(runDir).filter((line) => metric in line.values)[n - 1]?.values[metric];
}

/** What the Live side-bar view shows: its run (id, name, state) and its loss series. */
interface LiveReading {
  runId: string;
  name: string;
  state: string;
  series?: SeriesReading;
}

/** Reads the Live view (the Model Lab container must be open); undefined while it shows no run. */
async function readLive(workbench: Workbench): Promise<LiveReading | undefined> {
  const frame = await workbench.webviewFrame('Live', { timeoutMs: 10_000 });
  return frame.evaluate(() => {
    const details = document.querySelector<HTMLElement>('[data-testid="live-run"]');
    const runId = details?.getAttribute('data-run-id');
    if (!details || details.hidden || !runId) return undefined;
    const prefix = `series-${runId}-`;
    const series = document.querySelector(`[data-testid^="${prefix}"]`);
    return {
      runId,
      name: document.querySelector('[data-testid="live-run-name"]')?.textContent?.trim() ?? '',
      state: document.querySelector('[data-testid="live-run-state"]')?.getAttribute('data-state') ?? '',
      series: series
        ? {
            metric: (series.getAttribute('data-testid') ?? '').slice(prefix.length),
            points: Number(series.getAttribute('data-points')),
            last: Number(series.getAttribute('data-last')),
          }
        : undefined,
    };
  });
}

/** Waits until the Live view shows a reading that `matches`; the timeout error tells the last one. */
async function waitForLive(
  workbench: Workbench,
  matches: (live: LiveReading) => boolean,
  timeoutMs: number,
  what: string,
): Promise<LiveReading> {
  let last: LiveReading | string | undefined;
  return waitFor(
    async () => {
      await workbench.openViewContainer('Model Lab');
      last = await readLive(workbench).catch((error: Error) => error.message.split('\n')[0]);
      return typeof last === 'object' && matches(last) ? last : undefined;
    },
    { timeoutMs, intervalMs: 500, what: () => `the Live view to show ${what} (it shows ${JSON.stringify(last ?? 'no run')})` },
  );
}

/** The values of `metric` in metrics.jsonl, in order. */
function metricValues(runDir: string, metric: string): number[] {
  return readMetricLines(runDir).flatMap((line) => (metric in line.values ? [line.values[metric]] : []));
}

function sameValue(actual: number, expected: number): boolean {
  return Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected));
}

scenario(
  'the dashboard opened during training shows the curve growing as metrics.jsonl grows',
  { commands: [COMMANDS.train, COMMANDS.openRun], files: [`examples/${QUICK_SPEC}`] },
  minutes(6),
  async (session) => {
    const { workbench } = session;
    const runDir = await trainFromPalette(session, writeLongSpec(session.workspace));
    const runId = runIdOf(runDir);
    await waitFor(() => readMetricLines(runDir).length >= 2, { timeoutMs: minutes(2), what: '2 metric records' });
    const { title } = await openDashboard(workbench, runDir);

    const first = await waitFor(() => readSeries(workbench, title, runId), {
      timeoutMs: 60_000,
      what: `a chart series element [data-testid^="series-${runId}-"]`,
    });
    await workbench.screenshot('dashboard-early');
    const later = await waitFor(
      async () => {
        const reading = await readSeries(workbench, title, runId, first.metric);
        return reading && reading.points > first.points ? reading : undefined;
      },
      { timeoutMs: minutes(2), what: `the ${first.metric} curve to grow beyond ${first.points} points` },
    );
    await workbench.screenshot('dashboard-grown');

    // The chart shows exactly what the run wrote: its last point is that record's value.
    const expected = nthMetricValue(runDir, first.metric, later.points);
    assert.ok(expected !== undefined, `metrics.jsonl has at least ${later.points} ${first.metric} records`);
    assert.ok(
      Math.abs(later.last - expected) <= 1e-9 * Math.max(1, Math.abs(expected)),
      `data-last ${later.last} equals record ${later.points} of ${first.metric} in metrics.jsonl (${expected})`,
    );
  },
);

scenario(
  'the Live view follows a training run: name, state, the loss curve of metrics.jsonl, Open Dashboard',
  { commands: [COMMANDS.train], views: ['Live'], files: [`examples/${QUICK_SPEC}`] },
  minutes(8),
  async (session) => {
    const { workbench } = session;
    await workbench.openViewContainer('Model Lab');
    const runDir = await trainFromPalette(session, QUICK_SPEC);
    const runId = runIdOf(runDir);

    // It switches to the run that started training, and names it.
    const early = await waitForLive(
      workbench,
      (live) => live.runId === runId && ['running', 'completed'].includes(live.state),
      60_000,
      `run ${runId} training (or done)`,
    );
    assert.ok(early.name.length > 0, 'the run has a name');
    await workbench.screenshot('live-training');

    await waitForRunState(runDir, ['completed'], minutes(6));
    const loss = metricValues(runDir, early.series?.metric ?? 'train/loss');
    assert.ok(loss.length > 0, 'metrics.jsonl has loss records');
    // Finished: the chart holds every loss record the run wrote, ending on the last one.
    const done = await waitForLive(
      workbench,
      (live) => live.runId === runId && live.state === 'completed' && live.series?.points === loss.length,
      60_000,
      `run ${runId} completed with ${loss.length} loss points`,
    );
    assert.ok(done.series, 'the Live view has a chart');
    const expected = metricValues(runDir, done.series.metric);
    assert.equal(done.series.points, expected.length, `data-points equals the ${done.series.metric} records of metrics.jsonl`);
    assert.ok(
      sameValue(done.series.last, expected[expected.length - 1]),
      `data-last ${done.series.last} equals the last ${done.series.metric} record (${expected[expected.length - 1]})`,
    );
    await workbench.screenshot('live-completed');

    // Its Open Dashboard button opens this run's dashboard, with the same curve.
    const frame = await workbench.webviewFrame('Live');
    await frame.locator('[data-testid="live-open-dashboard"]').click();
    const title = `Dashboard: ${displayNameOf(runDir)}`;
    await workbench.editorTab(title).first().waitFor({ state: 'visible', timeout: 30_000 });
    const dashboard = await waitFor(
      async () => {
        const reading = await readSeries(workbench, title, runId, done.series!.metric);
        return reading && reading.points === done.series!.points ? reading : undefined;
      },
      { timeoutMs: 60_000, what: `the dashboard's ${done.series.metric} chart with ${done.series.points} points` },
    );
    assert.ok(sameValue(dashboard.last, done.series.last), 'the dashboard ends on the same value');
    await workbench.screenshot('live-open-dashboard');
  },
);

scenario(
  'reloading the window during training interrupts the run, Resume continues it, the dashboard is restored',
  { commands: [COMMANDS.train, COMMANDS.openRun, COMMANDS.resume], views: ['Runs'], files: [`examples/${QUICK_SPEC}`] },
  minutes(10),
  async (session) => {
    const { workbench } = session;
    const runDir = await trainFromPalette(session, writeLongSpec(session.workspace));
    const runId = runIdOf(runDir);
    const { title } = await openDashboard(workbench, runDir);
    await waitFor(() => checkpointSteps(runDir).length > 0, { timeoutMs: minutes(3), what: 'a first checkpoint' });
    const before = readStatus(runDir) as { step: number; pid: number };

    await workbench.reload();
    // The training worker lived in the old extension host: the run has no owner any more. Its
    // row must stop saying "running"; what it says instead is checked at the end, so that a
    // wrong state still lets the rest of the scenario (restore, resume) be seen working.
    const rowAfterReload = await waitForRunRow(workbench, runId, /^(?!.*\brunning\b)/, minutes(1));
    await workbench.editorTab(title).first().waitFor({ state: 'visible', timeout: 30_000 });
    await waitFor(() => readSeries(workbench, title, runId), { timeoutMs: 60_000, what: 'the restored dashboard chart' });
    // The Live view, loading beside the restored dashboard, shows the newest run, no longer running.
    const liveAfterReload = await waitForLive(
      workbench,
      (live) => live.runId === runId && live.state !== 'running' && live.state === runState(runDir),
      60_000,
      `run ${runId} in the state its folder says`,
    );
    await workbench.screenshotView('Live', 'reload-live');
    await workbench.screenshot('reload-interrupted');
    const interruptedAt = (readStatus(runDir) as { step: number }).step;
    assert.ok(interruptedAt >= before.step);

    await workbench.runCommand(COMMANDS.resume);
    await workbench.pickQuickItem(displayNameOf(runDir));
    const resumed = await waitFor(
      () => {
        const status = readStatus(runDir) as { state: string; step: number; pid: number } | undefined;
        return status?.state === 'running' && status.step > interruptedAt ? status : undefined;
      },
      { timeoutMs: minutes(3), what: `the run to train again beyond step ${interruptedAt}` },
    );
    assert.equal(resumed.state, 'running');
    await waitForRunRow(workbench, runId, /running/, 30_000);
    await waitForLive(workbench, (live) => live.runId === runId && live.state === 'running', 30_000, `run ${runId} running again`);
    await workbench.screenshot('reload-resumed');
    assert.match(rowAfterReload, /interrupted/, 'after a reload during training the run shows "interrupted"');
    assert.equal(liveAfterReload.state, 'interrupted', 'after a reload during training the Live view shows "interrupted"');
  },
);

/** Rows of the Problems panel that are problems (not file headers): theirs say where, "line N". */
const problemRows = (rows: string[]) => rows.filter((row) => /\bline \d+\b/i.test(row));

/** Puts the cursor at a 1-based line and column of the active editor, through Go to Line (Ctrl+G). */
/**
 * Does `act`, then polls `check` for a few seconds; while nothing comes, does `act` again. For
 * editor widgets that answer once and do not ask again when their provider becomes ready.
 */
async function retriedUntil<T>(
  act: () => Promise<void>,
  check: () => Promise<T | undefined>,
  options: { timeoutMs: number; what: () => string },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    await act();
    const value = await waitFor(check, { timeoutMs: 5_000, what: options.what }).catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what()}`);
  }
}

async function goToPosition(workbench: Workbench, line: number, column: number): Promise<void> {
  await workbench.page.keyboard.press('Control+G');
  const input = workbench.page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill(`:${line}:${column}`); // Go to Line is Quick Open's ':' mode
  await input.press('Enter');
  await input.waitFor({ state: 'hidden', timeout: 10_000 });
}

/** 1-based line and column of the first occurrence of `needle` in `text`. */
function positionOf(text: string, needle: string): { line: number; column: number } {
  const lines = text.split('\n');
  const line = lines.findIndex((l) => l.includes(needle));
  assert.ok(line >= 0, `the file still contains ${needle}`);
  return { line: line + 1, column: lines[line].indexOf(needle) + 1 };
}

scenario(
  'a broken experiment file shows located problems in the Problems panel',
  { commands: [COMMANDS.train], files: ['examples/broken.lab.json'] },
  minutes(4),
  async ({ workbench, workspace }) => {
    const file = join(workspace, 'broken.lab.json');
    const text = readFileSync(file, 'utf8');
    // The mistakes, as Model Lab's validator words and places them (10 in the broken example).
    const mistakes = parseSpec(text, file).problems;
    assert.ok(mistakes.length >= 10, `the broken example has its mistakes: ${mistakes.length}`);
    const expected = mistakes.map((p) => ({ message: problemMessage(p), line: p.line }));

    /** Each mistake listed exactly once, as an Error located on its line, and nothing else. */
    const listedOnce = (rows: string[]): string | undefined => {
      const listed = problemRows(rows);
      if (listed.length !== expected.length) return `${listed.length} problems listed for ${expected.length} mistakes`;
      for (const { message, line } of expected) {
        const matching = listed.filter((row) => row.includes(message));
        if (matching.length !== 1) return `"${message}" is listed ${matching.length} times`;
        if (!new RegExp(`\\bline ${line}\\b`).test(matching[0])) return `"${message}" is not on line ${line}: ${matching[0]}`;
        if (!/\berror\b/i.test(matching[0])) return `"${message}" is not an error: ${matching[0]}`;
      }
      return undefined;
    };
    const waitUntilListedOnce = async (when: string) => {
      let last: string[] = [];
      return waitFor(
        async () => {
          last = await workbench.problems();
          return listedOnce(last) === undefined ? last : undefined;
        },
        { timeoutMs: 60_000, what: () => `each mistake once ${when}: ${listedOnce(last)}; rows ${JSON.stringify(last)}` },
      );
    };

    // While editing, before any Train: Model Lab's own located errors, each once; no generic
    // schema warnings from VS Code's JSON service ("Incorrect type", "Value is below ...").
    await workbench.openFile('broken.lab.json');
    const before = await waitUntilListedOnce('after opening the file');
    assert.ok(before.some((row) => row.includes('broken.lab.json')), `a Problems row names the file: ${JSON.stringify(before)}`);
    assert.ok(before.some((row) => /unknown objective 'l2'.*did you mean 'l1'/.test(row)), 'Model Lab wording');
    await workbench.screenshot('broken-problems');

    // Completion and hover still come from the contributed schema.
    // The JSON language service may answer before it has loaded the contributed schema ("No
    // suggestions"), and a shown widget never asks again: each try places the cursor and asks anew.
    const model = positionOf(text, '"multi-head-attention"');
    const suggestions = workbench.page.locator('.suggest-widget .monaco-list-row');
    let seenLabels: string[] = [];
    const offered = await retriedUntil(
      async () => {
        await workbench.page.keyboard.press('Escape');
        await goToPosition(workbench, model.line, model.column + 1);
        await workbench.page.keyboard.press('Control+Space');
      },
      async () => {
        seenLabels = await suggestions.evaluateAll((rows) => rows.map((row) => row.getAttribute('aria-label') ?? row.textContent ?? ''));
        return seenLabels.some((label) => label.includes('compositional-attention')) ? seenLabels : undefined;
      },
      { timeoutMs: 60_000, what: () => `model names offered by completion in the model name (last rows ${JSON.stringify(seenLabels)})` },
    );
    assert.ok(offered.some((label) => label.includes('multi-head-attention')), `completion offers model names: ${JSON.stringify(offered)}`);
    await workbench.screenshot('broken-completion');
    await workbench.page.keyboard.press('Escape');

    const steps = positionOf(text, '"steps"');
    let seenHovers: string[] = [];
    const hover = await retriedUntil(
      async () => {
        await workbench.page.keyboard.press('Escape');
        await goToPosition(workbench, steps.line, steps.column + 2);
        await workbench.page.keyboard.press('Control+K');
        await workbench.page.keyboard.press('Control+I');
      },
      async () => {
        seenHovers = await workbench.page.locator('.monaco-hover-content').evaluateAll((nodes) => nodes.map((node) => node.textContent ?? ''));
        return seenHovers.find((t) => t.includes('Number of optimisation steps'));
      },
      { timeoutMs: 60_000, what: () => `the hover of "steps" showing its description (last ${JSON.stringify(seenHovers)})` },
    );
    assert.match(hover, /Default/);
    await workbench.screenshot('broken-hover');
    await workbench.page.keyboard.press('Escape');

    // Train: its problems replace the list; they are not added to it (once, not twice).
    await workbench.runCommand(COMMANDS.train, { timeoutMs: 60_000 });
    await waitFor(
      async () => (await workbench.notifications()).find((t) => /broken\.lab\.json has \d+ problems/.test(t)),
      { timeoutMs: 60_000, what: 'the notification that Train refused the broken file' },
    );
    await waitUntilListedOnce('after Train');
    await workbench.screenshot('broken-problems-after-train');

    // Typing: fixing a mistake removes it from the list (the check runs after a pause).
    const stepsValue = positionOf(text, '"steps": 0');
    await goToPosition(workbench, stepsValue.line, stepsValue.column + '"steps": '.length);
    await workbench.page.keyboard.press('Shift+ArrowRight');
    await workbench.page.keyboard.type('10');
    const fixed = expected.filter((p) => !p.message.startsWith('/training/steps:'));
    assert.equal(fixed.length, expected.length - 1);
    await waitFor(
      async () => {
        const listed = problemRows(await workbench.problems());
        return listed.length === fixed.length && fixed.every((p) => listed.filter((row) => row.includes(p.message)).length === 1);
      },
      { timeoutMs: 60_000, what: 'the fixed /training/steps to leave the Problems panel while typing' },
    );
  },
);
