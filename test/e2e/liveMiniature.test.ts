// The lab miniature of the Live view in a real VS Code: after the quick retrieval run completes,
// the Live view shows the retrieval selection of one example at the run's last checkpoint. Its
// rows are checked against the same checkpoint run here, in the test process, through the core;
// its button opens the Attention panel of the run.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attentionExample, truthRetrievalsOf } from '../../src/core/retrieval/attentionSummary';
import { openInference } from '../../src/core/inference';
import { checkpointSource } from '../../src/runs/checkpointSource';
import { readSpec } from '../../src/runs/reader';
import { useWasmBackend } from '../helpers/backend';
import { missingFeature, openSession } from './harness';
import { modelLabVsix } from './paths';
import { checkpointSteps, listRunDirs, waitFor, waitForNewRun, waitForRunState } from './waitFor';

const QUICK_SPEC = 'retrieval-mha-quick.lab.json';
const COMMANDS = { train: 'Model Lab: Train', openAttention: 'Model Lab: Open Attention Composition' } as const;

const slowdown = Number(process.env.MODEL_LAB_E2E_SLOWDOWN ?? 1);
const minutes = (n: number) => Math.round(n * 60_000 * slowdown);

interface MiniatureReading {
  visible: boolean;
  kind: string;
  step: number;
  rows: number;
  cols: number;
  argmax: number[];
  caption: string;
}

/** The tokens x (search·retrieval) matrix of example 0 of the held-out split, computed here. */
async function expectedSelection(runDir: string, step: number): Promise<{ split: string; matrix: number[][] }> {
  const spec = readSpec(runDir);
  const checkpoint = await checkpointSource(runDir).load(step);
  const session = await openInference(spec, checkpoint);
  try {
    const split = session.splits[session.splits.length - 1];
    const example = attentionExample(session.example(split, 0), truthRetrievalsOf(spec.task));
    return { split, matrix: example.selection.map((token) => token.flat()) };
  } finally {
    session.dispose();
    for (const { tensor } of [...checkpoint.weights, ...checkpoint.optimizer]) tensor.dispose();
  }
}

const needs = { commands: [COMMANDS.train, COMMANDS.openAttention], views: ['Live'], files: [`examples/${QUICK_SPEC}`] };

test('the Live view shows the retrieval selection miniature of a completed run, and opens its Attention panel', { skip: missingFeature(needs) ?? false, timeout: minutes(8) }, async () => {
  await useWasmBackend();
  const session = await openSession({ name: 'live-miniature', vsix: modelLabVsix });
  const { workbench, workspace } = session;
  try {
    await workbench.openViewContainer('Model Lab');
    const known = listRunDirs(workspace);
    await workbench.openFile(QUICK_SPEC);
    await workbench.runCommand(COMMANDS.train, { timeoutMs: 60_000 });
    const runDir = await waitForNewRun(workspace, known, 60_000);
    await waitForRunState(runDir, ['completed'], minutes(5));
    const steps = checkpointSteps(runDir);
    const lastStep = steps[steps.length - 1];
    assert.ok(lastStep !== undefined, 'the run saved checkpoints');

    // The miniature of the run's last checkpoint appears.
    let last: MiniatureReading | string | undefined;
    const shown = await waitFor(
      async () => {
        await workbench.openViewContainer('Model Lab');
        const frame = await workbench.webviewFrame('Live', { timeoutMs: 10_000 });
        last = await frame
          .evaluate(() => {
            const slot = document.querySelector<HTMLElement>('[data-testid="live-lab-miniature"]');
            if (!slot) return 'no miniature slot';
            return {
              visible: !slot.hidden && slot.getBoundingClientRect().height > 0,
              kind: slot.dataset.kind ?? '',
              step: Number(slot.dataset.step),
              rows: Number(slot.dataset.rows),
              cols: Number(slot.dataset.cols),
              argmax: JSON.parse(slot.dataset.argmax ?? '[]') as number[],
              caption: document.querySelector('[data-testid="live-lab-miniature-caption"]')?.textContent ?? '',
            };
          })
          .catch((error: Error) => error.message.split('\n')[0]);
        return typeof last === 'object' && last.visible && last.step === lastStep ? last : undefined;
      },
      { timeoutMs: minutes(2), intervalMs: 1_000, what: () => `the Live view's miniature at step ${lastStep} (it shows ${JSON.stringify(last)})` },
    );
    assert.equal(shown.kind, 'attention');

    // It is what the model computes on that checkpoint.
    const expected = await expectedSelection(runDir, lastStep);
    assert.equal(shown.caption, `retrieval selection, ${expected.split} example 0, step ${lastStep}`);
    assert.equal(shown.rows, expected.matrix.length, 'one row per token');
    assert.equal(shown.cols, expected.matrix[0].length, 'one column per search and retrieval');
    shown.argmax.forEach((col, token) => {
      const row = expected.matrix[token];
      // Near-ties may fall either way on another thread: the shown column must be (nearly) the largest.
      assert.ok(row[col] >= Math.max(...row) - 1e-3, `token ${token}: column ${col} holds ${row[col]}, the largest is ${Math.max(...row)}`);
    });
    const frame = await workbench.webviewFrame('Live');
    await frame.locator('[data-testid="live-open-lab"]').scrollIntoViewIfNeeded();
    await workbench.screenshotView('Live', 'live-miniature');

    // Its button opens the lab's full panel for this run.
    await frame.locator('[data-testid="live-open-lab"]').click();
    const tab = await waitFor(async () => (await workbench.editorTabTitles()).find((title) => title.startsWith('Attention:')), {
      timeoutMs: 30_000,
      what: 'an Attention panel tab',
    });
    const runId = runDir.split(/[\\/]/).pop() ?? runDir;
    const panel = await workbench.webviewFrame(tab);
    await panel.locator(`[data-testid="selection-${runId}"]`).waitFor({ state: 'attached', timeout: 60_000 });
    await workbench.screenshot('live-miniature-open-attention');
  } catch (error) {
    await workbench.screenshot('failure').catch(() => {});
    throw error;
  } finally {
    await session.close();
  }
});
