// Restricted Mode in a real VS Code: a repository can ship `.model-lab/runs/<run>/`, and a run
// folder is untrusted input. With workspace trust on and the folder not trusted, Model Lab lists
// the run but neither opens a lab panel on it nor lets the Live view load its checkpoint; once the
// user trusts the folder, both work (issue 18, item 1), the panel from the run's context menu,
// which offers only the panels of the run's lab (issue 21, item 9). Every other scenario runs with trust off.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { missingFeature, openSession } from './harness';
import { modelLabVsix, repoRoot } from './paths';
import { waitFor } from './waitFor';

const RUN = 'multi-head-4000';
const OPEN_ATTENTION = 'Model Lab: Open Attention Composition';
const OPEN_EXAMPLE = 'Model Lab: Open Example Run';
const slowdown = Number(process.env.MODEL_LAB_E2E_SLOWDOWN ?? 1);
const minutes = (n: number) => Math.round(n * 60_000 * slowdown);

/** examples/ with a trained run inside, as a cloned repository could ship it. */
function workspaceWithRun(): string {
  const folder = mkdtempSync(join(tmpdir(), 'model-lab-untrusted-'));
  cpSync(join(repoRoot, 'examples'), folder, { recursive: true });
  cpSync(join(repoRoot, 'test', 'fixtures', 'trained-retrieval', RUN), join(folder, '.model-lab', 'runs', RUN), { recursive: true });
  return folder;
}

const needs = { commands: [OPEN_ATTENTION, OPEN_EXAMPLE], views: ['Runs', 'Live'] };

test('in Restricted Mode a shipped run is listed but not opened; trusting the folder opens it', { skip: missingFeature(needs) ?? false, timeout: minutes(6) }, async () => {
  const source = workspaceWithRun();
  const session = await openSession({ name: 'trust', vsix: modelLabVsix, workspaceFrom: source, untrusted: true });
  const { workbench } = session;
  const { page } = workbench;
  try {
    await workbench.openViewContainer('Model Lab');
    await waitFor(async () => (await workbench.treeRows('Runs')).some((row) => row.includes(RUN)), {
      timeoutMs: 60_000,
      what: `the run ${RUN} listed in the Runs view`,
    });

    // Opening the run's lab panel is refused with a way to trust the folder; no panel opens.
    await workbench.runCommand(OPEN_ATTENTION);
    const warning = await waitFor(async () => (await workbench.notifications()).find((text) => /Restricted Mode/.test(text)), {
      timeoutMs: 30_000,
      what: 'a Restricted Mode warning',
    });
    assert.match(warning, /cannot look inside runs in Restricted Mode/);
    assert.match(warning, /Manage Workspace Trust/);
    await workbench.screenshot('restricted-open-attention');
    assert.ok(!(await workbench.editorTabTitles()).some((title) => title.startsWith('Attention')), 'no Attention panel opened');

    // Open Example Run is refused the same way: nothing is copied into the untrusted workspace.
    await workbench.runCommand('Notifications: Clear All Notifications');
    await waitFor(async () => ((await workbench.notifications()).length === 0 ? true : undefined), { timeoutMs: 10_000, what: 'no notification left' });
    await workbench.runCommand(OPEN_EXAMPLE);
    const exampleWarning = await waitFor(async () => (await workbench.notifications()).find((text) => /Restricted Mode/.test(text)), {
      timeoutMs: 30_000,
      what: 'a Restricted Mode warning for Open Example Run',
    });
    assert.match(exampleWarning, /cannot look inside runs in Restricted Mode/);
    assert.deepEqual(readdirSync(join(session.workspace, '.model-lab', 'runs')), [RUN], 'no example run copied');

    // The Live view shows the run, without its lab miniature (that would load the checkpoint).
    const live = await workbench.webviewFrame('Live', { timeoutMs: 30_000 });
    await live.locator('[data-testid="live-lab-miniature"]').waitFor({ state: 'attached', timeout: 30_000 });
    assert.equal(await live.locator('[data-testid="live-lab-miniature"]').isHidden(), true, 'no miniature in Restricted Mode');
    await workbench.screenshotView('Live', 'restricted-live');

    // The user trusts the folder (the warning's own button leads to the same editor).
    await workbench.runCommand('Workspaces: Manage Workspace Trust');
    const trust = page.locator('.workspace-trust-editor .monaco-button').filter({ hasText: /^Trust$/ });
    await trust.first().click({ timeout: 30_000 });
    await workbench.screenshot('trusted');

    // Now the Live view loads the run's checkpoint for its miniature...
    await waitFor(
      async () => {
        await workbench.openViewContainer('Model Lab');
        const frame = await workbench.webviewFrame('Live', { timeoutMs: 10_000 });
        return frame.evaluate(() => {
          const slot = document.querySelector<HTMLElement>('[data-testid="live-lab-miniature"]');
          return !!slot && !slot.hidden && slot.dataset.kind === 'attention' && slot.dataset.step === '4000';
        }).catch(() => false);
      },
      { timeoutMs: minutes(2), intervalMs: 1_000, what: 'the Live view miniature of the trusted run' },
    );
    await workbench.screenshotView('Live', 'trusted-live');

    // ...and the lab panel opens from the run's context menu, which offers this lab's panels only.
    const entries = await workbench.openRowContextMenu('Runs', `${RUN},`);
    await workbench.screenshot('trusted-context-menu');
    assert.ok(entries.includes('Open Attention Composition') && entries.includes('Compare Attention'), entries.join(' | '));
    assert.ok(!entries.includes('Open Posterior') && !entries.includes('Open Similarity'), `no other lab's panel: ${entries.join(' | ')}`);
    await workbench.chooseContextMenuItem('Open Attention Composition');
    const tab = await waitFor(async () => (await workbench.editorTabTitles()).find((title) => title.startsWith('Attention:')), {
      timeoutMs: 30_000,
      what: 'an Attention panel tab',
    });
    const panel = await workbench.webviewFrame(tab);
    await panel.locator(`[data-testid="selection-${RUN}"]`).waitFor({ state: 'attached', timeout: 60_000 });
    await workbench.screenshot('trusted-attention');
  } catch (error) {
    await workbench.screenshot('failure').catch(() => {});
    throw error;
  } finally {
    await session.close();
    rmSync(source, { recursive: true, force: true });
  }
});
