// The relational lab in a real VS Code: a tiny sweep (2 models x m in {0, 95} x 2 seeds) trained
// from the CLI into the workspace, then the Runs view groups its members under the sweep, and
// "Model Lab: Open Similarity" shows the m-grid of the sweep and, on a CoRelNet member, a trial's
// objects, its similarity matrix and the class-average matrices. Screenshots of both.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Frame } from 'playwright-core';
import { openSession } from './harness';
import { modelLabVsix, repoRoot } from './paths';
import { displayNameOf } from './runNames';
import { waitFor } from './waitFor';

const OPEN_SIMILARITY = 'Model Lab: Open Similarity';
const slowdown = Number(process.env.MODEL_LAB_E2E_SLOWDOWN ?? 1);
const minutes = (n: number) => Math.round(n * 60_000 * slowdown);

/** A folder with a tiny sweep, trained by the CLI into its .model-lab/runs. */
function trainedSweepWorkspace(): { folder: string; record: { id: string; members: { label: string; runId: string }[] } } {
  const folder = mkdtempSync(join(tmpdir(), 'model-lab-relational-'));
  const sweep = {
    formatVersion: 1,
    kind: 'sweep',
    name: 'tiny-sweep',
    description: 'Written by the e2e test: CoRelNet and the transformer baseline at m = 0 and 95, two seeds, 40 steps.',
    base: {
      task: { name: 'same-diff', m: 0 },
      model: { name: 'corelnet' },
      objective: { name: 'cross-entropy' },
      training: { steps: 40, batchSize: 16, learningRate: 0.0005, logEvery: 10, evalEvery: 20, evalBatches: 2, checkpointEvery: 20 },
    },
    grid: { '/model/name': ['corelnet', 'relational-transformer'], '/task/m': [0, 95], '/seed': [0, 1] },
  };
  writeFileSync(join(folder, 'tiny-sweep.lab.json'), JSON.stringify(sweep, null, 2));
  const result = spawnSync(process.execPath, [join(repoRoot, 'dist', 'cli.js'), 'sweep', 'tiny-sweep.lab.json', '--out', join(folder, '.model-lab', 'runs')], {
    cwd: folder,
    encoding: 'utf8',
    env: { ...process.env, MODEL_LAB_BACKEND: 'wasm' },
  });
  assert.equal(result.status, 0, result.stderr);
  const sweepDir = result.stdout.trim().split('\n').pop()!;
  return { folder, record: JSON.parse(readFileSync(join(sweepDir, 'sweep.json'), 'utf8')) };
}

const count = (frame: Frame, selector: string) => frame.evaluate((s) => document.querySelectorAll(s).length, selector);

test('a sweep trained from the CLI: grouped in the Runs view, its m-grid, and a member\'s similarity matrix', { timeout: minutes(8) }, async () => {
  const { folder, record } = trainedSweepWorkspace();
  const session = await openSession({ name: 'relational-similarity', vsix: modelLabVsix, workspaceFrom: folder });
  const { workbench } = session;
  try {
    // The Runs view: one sweep node with its 8 members under it.
    await workbench.openViewContainer('Model Lab');
    const rows = await waitFor(async () => {
      const found = await workbench.treeRows('Runs');
      return found.some((row) => row.includes('tiny-sweep')) ? found : undefined;
    }, { timeoutMs: 30_000, what: 'the sweep in the Runs view' });
    assert.ok(rows.some((row) => /tiny-sweep/.test(row)), JSON.stringify(rows));

    // The sweep: accuracy over m per model, mean and spread over the two seeds.
    await workbench.runCommand(OPEN_SIMILARITY, { timeoutMs: 60_000 });
    await workbench.pickQuickItem('tiny-sweep');
    const sweepFrame = await workbench.webviewFrame('Sweep: tiny-sweep', { timeoutMs: 60_000 });
    await sweepFrame.waitForSelector('[data-testid="sweep-grid"] td.cell', { timeout: 30_000 });
    assert.equal(await count(sweepFrame, '[data-testid="sweep-grid"] tbody tr'), 2, 'one row per model');
    assert.equal(await count(sweepFrame, '[data-testid="sweep-grid"] td.cell'), 4, 'one cell per model and m');
    const cellText = await sweepFrame.textContent('[data-testid="sweep-cell-corelnet-95"]');
    assert.match(cellText ?? '', /\d+\.\d% ± \d+\.\d.*2\/2 seeds/, cellText ?? '');
    assert.ok(await sweepFrame.isVisible('[data-testid="sweep-chart"]'));
    console.log(`screenshot: ${await workbench.screenshot('sweep-m-grid')}`);

    // A CoRelNet member: one trial and the class averages, computed by a worker on its checkpoint.
    const member = record.members.find((m) => m.label === 'corelnet.m95.s0')!;
    await workbench.runCommand(OPEN_SIMILARITY, { timeoutMs: 30_000 });
    const memberName = displayNameOf(join(folder, '.model-lab', 'runs', member.runId));
    await workbench.pickQuickItem(memberName);
    const runFrame = await workbench.webviewFrame(`Similarity: ${memberName}`, { timeoutMs: 60_000 });
    await runFrame.waitForSelector('[data-testid="similarity-objects"] canvas', { timeout: 60_000 });
    assert.equal(await count(runFrame, '[data-testid="similarity-objects"] canvas'), 2, 'same-diff shows two objects');
    assert.ok(await runFrame.isVisible('[data-testid="similarity-matrix"]'));
    assert.match((await runFrame.textContent('[data-testid="similarity-prediction"]')) ?? '', /(Correct|Wrong): predicted (same|different), truth (same|different)/);
    await runFrame.waitForSelector('[data-testid="similarity-averages"] figure', { timeout: 120_000 });
    const kinds = await runFrame.$$eval('[data-testid="similarity-averages"] figcaption strong', (els) => els.map((e) => e.textContent));
    assert.deepEqual(kinds, ['different', 'same']);

    // Next trial: the index moves and a new trial is drawn.
    await runFrame.click('[data-testid="similarity-next"]');
    await waitFor(async () => ((await runFrame.inputValue('[data-testid="similarity-index"]')) === '1' ? true : undefined), {
      timeoutMs: 30_000,
      what: 'trial 1',
    });
    await waitFor(async () => ((await runFrame.textContent('[data-testid="similarity-prediction"]'))?.includes('trial 1') ? true : undefined), {
      timeoutMs: 30_000,
      what: 'the prediction of trial 1',
    });
    console.log(`screenshot: ${await workbench.screenshot('similarity-matrix')}`);

    // A transformer member has no similarity matrix: the panel says so and shows its self-attention.
    const baseline = record.members.find((m) => m.label === 'relational-transformer.m95.s0')!;
    await workbench.runCommand(OPEN_SIMILARITY, { timeoutMs: 30_000 });
    const baselineName = displayNameOf(join(folder, '.model-lab', 'runs', baseline.runId));
    await workbench.pickQuickItem(baselineName);
    const baselineFrame = await workbench.webviewFrame(`Similarity: ${baselineName}`, { timeoutMs: 60_000 });
    await baselineFrame.waitForSelector('[data-testid="similarity-objects"] canvas', { timeout: 60_000 });
    assert.ok(await baselineFrame.isVisible('[data-testid="similarity-matrix"]'), 'the attention map is drawn');
    assert.match((await baselineFrame.getAttribute('[data-testid="similarity-matrix"]', 'aria-label')) ?? '', /Self-attention 2 by 2, mean over heads/);
    assert.equal(await baselineFrame.textContent('[data-testid="similarity-matrix-heading"]'), 'Self-attention (mean over heads)');
    console.log(`screenshot: ${await workbench.screenshot('similarity-transformer-attention')}`);
  } catch (error) {
    await workbench.screenshot('failure').catch(() => {});
    throw error;
  } finally {
    await session.close();
  }
});
