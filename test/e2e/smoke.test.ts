// Proves the harness itself: a generated extension is packaged, installed in code-server, its
// command runs from the palette, its webview is read, and a reload restarts the extension host.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openSession, type Session } from './harness';
import { buildSmokeVsix, smokeCommandTitle, smokePanelTitle, smokeText } from './smokeExtension';

let session: Session | undefined;
const scratch = mkdtempSync(join(tmpdir(), 'model-lab-smoke-'));

before(async () => {
  const vsix = buildSmokeVsix(scratch);
  // An empty workspace: the smoke test must not depend on what examples/ holds.
  const emptyFolder = join(scratch, 'empty-workspace');
  mkdirSync(emptyFolder);
  session = await openSession({ name: 'smoke', vsix, workspaceFrom: emptyFolder });
});

after(async () => {
  await session?.close();
  rmSync(scratch, { recursive: true, force: true });
});

function current(): Session {
  if (!session) throw new Error('session did not start');
  return session;
}

async function hostPidShown(): Promise<string> {
  const frame = await current().workbench.webviewFrame(smokePanelTitle);
  await frame.locator('[data-testid="greeting"]').waitFor({ timeout: 15_000 });
  assert.equal((await frame.locator('[data-testid="greeting"]').textContent())?.trim(), smokeText);
  return (await frame.locator('[data-testid="host-pid"]').textContent())?.trim() ?? '';
}

test('a command from the palette opens a webview whose DOM the test can read', { timeout: 120_000 }, async () => {
  const { workbench } = current();
  await workbench.runCommand(smokeCommandTitle); // throws when the palette does not offer it
  const pid = await hostPidShown();
  assert.match(pid, /^\d+$/, 'the extension host wrote its process id into the webview');
  await workbench.screenshot('smoke-webview');
});

test('reloading the window restarts the extension host', { timeout: 120_000 }, async () => {
  const { workbench } = current();
  await workbench.runCommand(smokeCommandTitle);
  const before = await hostPidShown();
  await workbench.reload();
  await workbench.runCommand(smokeCommandTitle);
  const afterReload = await hostPidShown();
  await workbench.screenshot('smoke-after-reload');
  assert.notEqual(afterReload, before, 'a new extension host process serves the reloaded window');
});
