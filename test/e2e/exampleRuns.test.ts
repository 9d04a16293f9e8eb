// The example runs shipped in the VSIX in a real VS Code: "Model Lab: Open Example Run", one lab
// after the other, copies that lab's example into the workspace and opens its panel at once, which
// says the run has learned and shows its pictures. A screenshot of each panel; with
// MODEL_LAB_README_SCREENSHOTS=1 they also replace the README's (media/readme/). Then the
// extension's own page shows the README with those screenshots (inlined by npm run package).
// And a short run's panel says it has not learned yet and how many steps its template
// recommends, its near-uniform maps stretched to their own range (auto-contrast).
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Frame } from 'playwright-core';
import { LABS, labOf } from '../../src/core/labList';
import { readSpec } from '../../src/runs/reader';
import { cliTrainedWorkspace } from './cliTrained';
import { missingFeature, openSession } from './harness';
import { modelLabVsix, repoRoot } from './paths';
import { displayNameOf } from './runNames';
import { waitFor } from './waitFor';

const OPEN_EXAMPLE = 'Model Lab: Open Example Run';
const slowdown = Number(process.env.MODEL_LAB_E2E_SLOWDOWN ?? 1);
const minutes = (n: number) => Math.round(n * 60_000 * slowdown);

/** What shows that each lab's panel has drawn its point (besides the learned line). */
const DRAWN: Record<string, string[]> = {
  retrieval: ['canvas[data-testid^="searchmap-"][data-scale-max]', '[data-testid^="summary-"] canvas[data-scale-max]'],
  relational: ['[data-testid="similarity-matrix"][data-scale-max]', '[data-testid="similarity-averages"] figure.average'],
  posterior: ['[data-testid="posterior-summary"][data-results]:not([data-results="0"])'],
  sampler: ['[data-testid="landscape"][data-results]:not([data-results="0"])'],
};

/** The shipped examples, by lab, with the tab title their panel opens under. */
const examplesDir = join(repoRoot, 'example-runs');
const examples = readdirSync(examplesDir).map((id) => {
  const dir = join(examplesDir, id);
  const lab = labOf(readSpec(dir))!;
  return { lab, tab: `${lab.panel!.title}: ${displayNameOf(dir)}` };
});

test('Open Example Run: each lab\'s example opens in its panel, which says it has learned', { skip: missingFeature({ commands: [OPEN_EXAMPLE] }) ?? false, timeout: minutes(6) }, async () => {
  const session = await openSession({ name: 'example-runs', vsix: modelLabVsix });
  const { workbench } = session;
  try {
    await workbench.runCommand('View: Toggle Primary Side Bar Visibility'); // the panels' width for the screenshots
    for (const lab of LABS) {
      const example = examples.find((e) => e.lab.id === lab.id);
      assert.ok(example, `an example run of ${lab.id}`);
      await workbench.runCommand(OPEN_EXAMPLE, { timeoutMs: 60_000 });
      await workbench.pickQuickItem(lab.title);
      const frame: Frame = await workbench.webviewFrame(example.tab, { timeoutMs: minutes(1) });
      const note = await frame.waitForSelector('[data-testid="learned-note"]', { timeout: minutes(1) });
      assert.equal(await note.getAttribute('data-verdict'), 'learned', (await note.textContent()) ?? '');
      assert.match((await note.textContent()) ?? '', /^Learned: /);
      for (const selector of DRAWN[lab.id]) await frame.waitForSelector(selector, { timeout: minutes(1) });
      const shot = await workbench.screenshot(`example-${lab.id}`);
      console.log(`screenshot: ${shot}`);
      if (process.env.MODEL_LAB_README_SCREENSHOTS === '1') {
        mkdirSync(join(repoRoot, 'media', 'readme'), { recursive: true });
        copyFileSync(shot, join(repoRoot, 'media', 'readme', `example-${lab.id}.png`));
      }
    }
    // Each example is now an ordinary run of the workspace.
    await workbench.openViewContainer('Model Lab');
    const rows = await waitFor(async () => {
      const found = await workbench.treeRows('Runs');
      return found.filter((row) => /example-/.test(row)).length >= LABS.length ? found : undefined;
    }, { timeoutMs: 30_000, what: 'the four examples in the Runs view' });
    assert.ok(rows.length >= LABS.length, JSON.stringify(rows));
  } finally {
    await session.close();
  }
});

test("the extension's page shows the README with each lab's screenshot", { skip: missingFeature({ commands: [OPEN_EXAMPLE] }) ?? false, timeout: minutes(3) }, async () => {
  const session = await openSession({ name: 'readme-page', vsix: modelLabVsix });
  const { workbench } = session;
  try {
    await workbench.runCommand('Extensions: Show Enabled Extensions');
    await workbench.page.locator('.extension-list-item').filter({ hasText: 'Model Lab' }).first().click({ timeout: 60_000 });
    const frame = await workbench.webviewFrame('Extension: Model Lab', { timeoutMs: minutes(1) });
    const images = await waitFor(async () => {
      const found = await frame.evaluate(() => [...document.querySelectorAll('img')].map((img) => ({ alt: img.alt, width: img.naturalWidth, complete: img.complete })));
      return found.length >= LABS.length && found.every((img) => img.complete) ? found : undefined;
    }, { timeoutMs: minutes(1), what: "the README's images on the extension's page" });
    const screenshots = images.filter((img) => /example/.test(img.alt));
    assert.equal(screenshots.length, LABS.length, JSON.stringify(images));
    assert.ok(screenshots.every((img) => img.width > 0), `every screenshot loads: ${JSON.stringify(screenshots)}`);
    await frame.evaluate(() => document.querySelector('img[alt*="example"]')?.scrollIntoView());
    console.log(`screenshot: ${await workbench.screenshot('extension-page')}`);
  } finally {
    await session.close();
  }
});

test("a short run's panel says it has not learned yet and what its template recommends; its maps are auto-contrasted", { skip: missingFeature({ commands: ['Model Lab: Open Attention Composition'] }) ?? false, timeout: minutes(4) }, async () => {
  const { folder, runDir } = cliTrainedWorkspace({
    template: 'retrieval-mha-quick.lab.json',
    name: 'short-run',
    description: 'Written by the e2e test: 100 steps, far from learning the task.',
    training: { steps: 100, evalEvery: 50, checkpointEvery: 100 },
    timeoutMs: minutes(2),
  });
  const recommended = (JSON.parse(readFileSync(join(runDir, 'spec.json'), 'utf8')) as { recommendedSteps: number }).recommendedSteps;
  const session = await openSession({ name: 'short-run-not-learned', vsix: modelLabVsix, workspaceFrom: folder });
  const { workbench } = session;
  try {
    await workbench.runCommand('Model Lab: Open Attention Composition', { timeoutMs: 60_000 });
    const name = displayNameOf(runDir);
    await workbench.pickQuickItem(name);
    const frame = await workbench.webviewFrame(`Attention: ${name}`, { timeoutMs: minutes(1) });
    const note = await frame.waitForSelector('[data-testid="learned-note"]', { timeout: minutes(1) });
    assert.equal(await note.getAttribute('data-verdict'), 'not-yet');
    assert.match((await note.textContent()) ?? '', new RegExp(`^Not learned yet: eval/train/l1 0\\.\\d+ > 0\\.5 .*Its template recommends ${recommended} steps; this run trains 100\\.$`));
    const map = await frame.waitForSelector('canvas[data-testid^="searchmap-"][data-scale-max]', { timeout: minutes(1) });
    const [low, high] = [Number(await map.getAttribute('data-scale-min')), Number(await map.getAttribute('data-scale-max'))];
    assert.ok(low > 0 && high - low < 0.5, `a short run's attention spans little of 0..1 above its masked zeros, and the colours span that: ${low}..${high}`);
    console.log(`screenshot: ${await workbench.screenshot('short-run-not-learned')}`);
  } finally {
    await session.close();
  }
});
