// The compositional attention lab in a real VS Code: Train Comparison on examples/compare-attention
// (shortened to a few dozen steps), the dashboard overlay, then the Attention composition panel on
// both runs side by side. The panel's numbers are checked against the same checkpoint run here,
// in the test process, through the core (the worker must show exactly what the model computes).
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Frame } from 'playwright-core';
import { attentionExample, summarizeSelection, truthRetrievalsOf, type AttentionExample } from '../../src/core/retrieval/attentionSummary';
import { openInference } from '../../src/core/inference';
import { checkpointSource } from '../../src/runs/checkpointSource';
import { readSpec } from '../../src/runs/reader';
import { useWasmBackend } from '../helpers/backend';
import { missingFeature, openSession } from './harness';
import { modelLabVsix } from './paths';
import { displayNameOf } from './runNames';
import { listRunDirs, waitFor, waitForRunState, checkpointSteps } from './waitFor';

const COMMANDS = {
  trainComparison: 'Model Lab: Train Comparison',
  compareAttention: 'Model Lab: Compare Attention',
} as const;
const FOLDER = 'compare-attention';
const FILES = ['compare-compositional.lab.json', 'compare-mha.lab.json'];
const EXAMPLE_INDEX = 3;

const slowdown = Number(process.env.MODEL_LAB_E2E_SLOWDOWN ?? 1);
const minutes = (n: number) => Math.round(n * 60_000 * slowdown);

/** The example files with a tiny budget (same seed, task and batch in both: still one data stream). */
function shortenSpecs(workspace: string): void {
  for (const file of FILES) {
    const path = join(workspace, FOLDER, file);
    const spec = JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>;
    spec.training = { ...spec.training, steps: 60, batchSize: 32, learningRate: 0.003, logEvery: 10, evalEvery: 30, evalBatches: 2, checkpointEvery: 30 };
    spec.model = { ...spec.model, dim: 32, ...(spec.model.searchDim ? { searchDim: 32, valueDim: 32 } : {}) };
    writeFileSync(path, JSON.stringify(spec, null, 2));
  }
}

const runIdOf = (runDir: string) => runDir.split(/[\\/]/).pop() ?? runDir;

interface SelectionReading {
  tokens: number;
  searches: number;
  retrievals: number;
  argmax: number[][];
  truthRetrieved: number[][] | null;
  example: number;
  split: string;
  step: number;
}

async function readSelection(frame: Frame, runId: string): Promise<SelectionReading | undefined> {
  // No named helper functions inside evaluate: the bundler's __name() wrapper does not exist in the page.
  const raw = await frame.evaluate((id) => {
    const el = document.querySelector(`[data-testid="selection-${id}"]`);
    if (!el) return undefined;
    const names = ['data-tokens', 'data-searches', 'data-retrievals', 'data-argmax', 'data-truth-retrieved', 'data-example', 'data-split', 'data-step'];
    return names.map((name) => el.getAttribute(name) ?? '');
  }, runId);
  if (!raw) return undefined;
  const [tokens, searches, retrievals, argmax, truth, example, split, step] = raw;
  return {
    tokens: Number(tokens),
    searches: Number(searches),
    retrievals: Number(retrievals),
    argmax: JSON.parse(argmax) as number[][],
    truthRetrieved: JSON.parse(truth) as number[][] | null,
    example: Number(example),
    split,
    step: Number(step),
  };
}

async function readSummary(frame: Frame, runId: string) {
  return frame.evaluate((id) => {
    const el = document.querySelector(`[data-testid="summary-${id}"]`);
    if (!el) return undefined;
    return {
      examples: Number(el.getAttribute('data-examples')),
      tokens: Number(el.getAttribute('data-tokens')),
      information: JSON.parse(el.getAttribute('data-information') ?? 'null') as number[][],
    };
  }, runId);
}

/** The example and the summary the panel should show, computed here from the run folder. */
async function expectedFor(runDir: string, split: string, index: number, step: number) {
  const spec = readSpec(runDir);
  const source = checkpointSource(runDir);
  const checkpoint = await source.load(step);
  const session = await openInference(spec, checkpoint);
  try {
    const vp = truthRetrievalsOf(spec.task);
    const examples: AttentionExample[] = [];
    for (let i = 0; i < 64; i++) examples.push(attentionExample(session.example(split, i), vp));
    return { example: examples[index], summary: summarizeSelection(examples, vp) };
  } finally {
    session.dispose();
    for (const { tensor } of [...checkpoint.weights, ...checkpoint.optimizer]) tensor.dispose();
  }
}

/** Argmaxes must agree wherever the choice is clear (a near-tie may fall either way on another thread). */
function assertSameChoices(shown: number[][], example: AttentionExample, what: string): void {
  assert.equal(shown.length, example.tokens, `${what}: one row per token`);
  example.selection.forEach((perSearch, token) =>
    perSearch.forEach((alpha, s) => {
      const sorted = [...alpha].sort((a, b) => b - a);
      if (sorted[0] - sorted[1] > 1e-3) assert.equal(shown[token][s], example.retrievalArgmax[token][s], `${what}: token ${token}, search ${s}`);
    }),
  );
}

const needs = { commands: [COMMANDS.trainComparison, COMMANDS.compareAttention], files: FILES.map((f) => `examples/${FOLDER}/${f}`) };

test('Train Comparison, then compositional and multi-head attention side by side in the Attention panel', { skip: missingFeature(needs) ?? false, timeout: minutes(14) }, async () => {
  await useWasmBackend();
  const session = await openSession({ name: 'attention-composition', vsix: modelLabVsix });
  const { workbench, workspace } = session;
  try {
    shortenSpecs(workspace);
    const known = listRunDirs(workspace);

    // 1. Both experiments of the folder train; the dashboard overlays them.
    await workbench.runCommand(COMMANDS.trainComparison, { timeoutMs: 60_000 });
    await workbench.pickQuickItem(FOLDER);
    const runDirs = await waitFor(() => {
      const fresh = listRunDirs(workspace).filter((dir) => !known.includes(dir));
      return fresh.length === 2 ? fresh : undefined;
    }, { timeoutMs: minutes(1), what: 'two new run folders' });
    for (const dir of runDirs) await waitForRunState(dir, ['completed'], minutes(5));
    const byModel = new Map(runDirs.map((dir) => [readSpec(dir).model.name, dir]));
    const compositional = byModel.get('compositional-attention');
    const multiHead = byModel.get('multi-head-attention');
    assert.ok(compositional && multiHead, `one run per model: ${[...byModel.keys()].join(', ')}`);
    await workbench.editorTab('Compare 2 runs').first().waitFor({ state: 'visible', timeout: 30_000 });
    await workbench.screenshot('comparison-dashboard');

    // 2. The Attention panel on both: compositional left, multi-head right (room for two columns).
    await workbench.runCommand('Notifications: Clear All Notifications');
    await workbench.runCommand('View: Close Primary Side Bar');
    const [left, right] = [runIdOf(compositional), runIdOf(multiHead)];
    await workbench.runCommand(COMMANDS.compareAttention);
    // Picked, and the tab titled, by the runs' display names; the page's test ids are their ids.
    await workbench.pickQuickItem(displayNameOf(compositional));
    await workbench.pickQuickItem(displayNameOf(multiHead));
    const title = `Attention: ${displayNameOf(compositional)} vs ${displayNameOf(multiHead)}`;
    await workbench.editorTab(title).first().waitFor({ state: 'visible', timeout: 30_000 });
    let frame = await workbench.webviewFrame(title);
    const firstReading = await waitFor(async () => {
      const [a, b] = [await readSelection(frame, left), await readSelection(frame, right)];
      return a && b ? { a, b } : undefined;
    }, { timeoutMs: minutes(1), what: 'the selection matrices of both runs' });
    assert.equal(firstReading.a.split, 'ood', 'the held-out split is shown first');

    // 3. Go to example EXAMPLE_INDEX with the "next" button, in both columns at once.
    for (let i = 0; i < EXAMPLE_INDEX; i++) {
      await frame.locator('vscode-button[aria-label="Next example"]').click();
    }
    const readings = await waitFor(async () => {
      const [a, b] = [await readSelection(frame, left), await readSelection(frame, right)];
      return a?.example === EXAMPLE_INDEX && b?.example === EXAMPLE_INDEX ? { a, b } : undefined;
    }, { timeoutMs: minutes(1), what: `both columns to show example ${EXAMPLE_INDEX}` });

    // The shown matrices are the model's, computed here from the same checkpoint.
    const lastStep = checkpointSteps(compositional).at(-1)!;
    const expectedLeft = await expectedFor(compositional, 'ood', EXAMPLE_INDEX, lastStep);
    const expectedRight = await expectedFor(multiHead, 'ood', EXAMPLE_INDEX, checkpointSteps(multiHead).at(-1)!);
    assert.deepEqual(
      [readings.a.tokens, readings.a.searches, readings.a.retrievals],
      [expectedLeft.example.tokens, expectedLeft.example.searches, expectedLeft.example.retrievals],
    );
    assert.deepEqual([readings.a.tokens, readings.a.searches, readings.a.retrievals], [10, 2, 4]);
    assert.deepEqual([readings.b.tokens, readings.b.searches, readings.b.retrievals], [10, 2, 2], 'multi-head: 2 heads, 2 value blocks');
    assert.equal(readings.a.step, lastStep);
    assertSameChoices(readings.a.argmax, expectedLeft.example, 'compositional');
    assert.deepEqual(readings.b.argmax, Array.from({ length: 10 }, () => [0, 1]), 'multi-head attention: head h uses value block h');
    // Same seed and task: both columns show the very same example (its ground truth agrees).
    assert.deepEqual(readings.a.truthRetrieved, expectedLeft.example.truth!.retrieved);
    assert.deepEqual(readings.b.truthRetrieved, readings.a.truthRetrieved);

    const summaries = await waitFor(async () => {
      const [a, b] = [await readSummary(frame, left), await readSummary(frame, right)];
      return a && b ? { a, b } : undefined;
    }, { timeoutMs: minutes(1), what: 'the summaries of both runs' });
    assert.deepEqual([summaries.a.examples, summaries.a.tokens], [64, 640]);
    summaries.a.information.flat().forEach((bits, i) =>
      assert.ok(Math.abs(bits - expectedLeft.summary.information.flat()[i]) < 1e-3, `information ${i}: ${bits}`));
    assert.deepEqual(summaries.b.information, [[0, 0], [0, 0]], 'a fixed pairing carries no information about the context');
    assert.deepEqual(expectedRight.summary.information, [[0, 0], [0, 0]]);
    await workbench.screenshot('attention-side-by-side');

    // 4. Hovering token 4 in the compositional selection names what it searched and retrieved.
    const canvas = frame.locator(`[data-testid="selection-${left}"] canvas`).first();
    const box = await canvas.boundingBox();
    assert.ok(box);
    const hovered = 4;
    // The label band's width depends on the font: sweep along a row until the readout names the token.
    const columnX = await waitFor(async () => {
      for (let x = 2; x < box.width; x += 4) {
        await canvas.hover({ position: { x, y: 20 } });
        const text = (await frame.locator(`[data-testid="readout-${left}"]`).textContent()) ?? '';
        if (text.startsWith(`token ${hovered} `)) return x;
      }
      return undefined;
    }, { timeoutMs: 30_000, what: `the readout to describe token ${hovered}` });
    assert.ok(columnX > 0);
    const readout = (await frame.locator(`[data-testid="readout-${left}"]`).textContent()) ?? '';
    const keys = expectedLeft.example.keyArgmax[hovered];
    assert.match(readout, new RegExp(`search 0 attends most to token ${keys[0]}\\b`));
    assert.match(readout, /truth: g0 finds token \d+, context asks r\*\d/);
    // The same token is followed in the multi-head column.
    const otherReadout = (await frame.locator(`[data-testid="readout-${right}"]`).textContent()) ?? '';
    assert.ok(otherReadout.startsWith(`token ${hovered} `), `the other column follows the hovered token: ${otherReadout}`);
    await workbench.screenshot('attention-hover');
    // Below the fold: the readout of the hovered token and the summary over 64 examples.
    await frame.locator(`[data-testid="summary-${left}"]`).scrollIntoViewIfNeeded();
    await workbench.screenshot('attention-summary');
    await frame.evaluate(() => window.scrollTo(0, 0));

    // 5. The scrubber loads the first checkpoint in the compositional column only.
    const firstStep = checkpointSteps(compositional)[0];
    assert.ok(firstStep < lastStep, `several checkpoints: ${checkpointSteps(compositional).join(', ')}`);
    await frame.evaluate((id) => {
      const range = document.querySelector(`[data-testid="scrubber-${id}"]`) as HTMLInputElement;
      range.value = '0';
      range.dispatchEvent(new Event('input'));
      range.dispatchEvent(new Event('change'));
    }, left);
    frame = await workbench.webviewFrame(title);
    const earlier = await waitFor(async () => {
      const a = await readSelection(frame, left);
      return a?.step === firstStep ? a : undefined;
    }, { timeoutMs: minutes(1), what: `the compositional column to show step ${firstStep}` });
    assert.equal(earlier.example, EXAMPLE_INDEX);
    const expectedEarlier = await expectedFor(compositional, 'ood', EXAMPLE_INDEX, firstStep);
    assertSameChoices(earlier.argmax, expectedEarlier.example, `compositional at step ${firstStep}`);
    assert.equal((await readSelection(frame, right))?.step, checkpointSteps(multiHead).at(-1), 'the other column keeps its checkpoint');
    await workbench.screenshot('attention-scrubbed');
  } catch (error) {
    await workbench.screenshot('failure').catch(() => {});
    throw error;
  } finally {
    await session.close();
  }
});

/**
 * What the panel is for, on runs trained long enough to learn the task (4000 steps, fixtures in
 * test/fixtures/trained-retrieval): compositional attention's retrieval selection follows the
 * context, multi-head attention's cannot.
 */
test('on trained runs, compositional attention picks the retrieval the context asks for; multi-head attention cannot', { timeout: minutes(5) }, async () => {
  const fixtures = join(__dirname, '..', 'fixtures', 'trained-retrieval');
  const workspace = mkdtempSync(join(tmpdir(), 'model-lab-trained-'));
  cpSync(join(__dirname, '..', '..', 'examples'), workspace, { recursive: true });
  for (const run of ['compositional-4000', 'multi-head-4000']) {
    cpSync(join(fixtures, run), join(workspace, '.model-lab', 'runs', run), { recursive: true });
  }
  const session = await openSession({ name: 'attention-trained', vsix: modelLabVsix, workspaceFrom: workspace });
  const { workbench } = session;
  try {
    await workbench.runCommand('View: Close Primary Side Bar');
    await workbench.runCommand(COMMANDS.compareAttention);
    await workbench.pickQuickItem('compositional-4000');
    await workbench.pickQuickItem('multi-head-4000');
    const title = 'Attention: compositional-4000 vs multi-head-4000';
    await workbench.editorTab(title).first().waitFor({ state: 'visible', timeout: 60_000 });
    const frame = await workbench.webviewFrame(title);
    const summaries = await waitFor(async () => {
      const [a, b] = [await readSummary(frame, 'compositional-4000'), await readSummary(frame, 'multi-head-4000')];
      return a && b ? { a, b } : undefined;
    }, { timeoutMs: minutes(2), what: 'the summaries of both trained runs' });
    // Information between the context and the chosen retrieval, per learned search (of 2 bits).
    const compositionalBits = summaries.a.information.flat();
    assert.ok(Math.max(...compositionalBits) > 0.5, `a compositional search follows the context: ${compositionalBits}`);
    assert.ok(summaries.b.information.flat().every((bits) => bits === 0), 'a fixed pairing ignores the context');
    await workbench.screenshot('trained-side-by-side');
    await frame.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    await workbench.screenshot('trained-summary');
  } catch (error) {
    await workbench.screenshot('failure').catch(() => {});
    throw error;
  } finally {
    await session.close();
    rmSync(workspace, { recursive: true, force: true });
  }
});
