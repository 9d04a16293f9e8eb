import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

const root = path.join(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const contributes = pkg.contributes;
const declared = new Set<string>(contributes.commands.map((c: { command: string }) => c.command));
// Commands are registered in src/host/commands.ts and by each panel's own module (src/host/panels/).
const hostSources = fs
  .readdirSync(path.join(root, 'src', 'host'), { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.ts'))
  .map((file) => fs.readFileSync(path.join(root, 'src', 'host', file), 'utf8'))
  .join('\n');
const registeredDirectly = [...hostSources.matchAll(/(?:registerCommand|command)\('(modelLab\.[A-Za-z]+)'/g)].map((m) => m[1]);
const mentioned = new Set([...hostSources.matchAll(/'(modelLab\.[A-Za-z]+)'/g)].map((m) => m[1]));

test('every declared command is registered by the host, and vice versa', () => {
  for (const command of declared) assert.ok(mentioned.has(command), `${command} is declared but no host module names it`);
  for (const command of registeredDirectly) assert.ok(declared.has(command), `${command} is registered but not declared`);
  assert.ok(registeredDirectly.length >= 10, 'the scan finds the registrations');
  for (const command of contributes.commands) assert.equal(command.category, 'Model Lab', command.command);
});

test('menus, welcome views and walkthrough links only use existing commands', () => {
  const builtIn = new Set(['vscode.openFolder', 'modelLab.runs.focus']);
  for (const [menu, items] of Object.entries(contributes.menus) as [string, { command: string }[]][]) {
    for (const item of items) assert.ok(declared.has(item.command), `${menu}: ${item.command}`);
  }
  const linked = (text: string) => [...text.matchAll(/\(command:([A-Za-z.]+)/g)].map((m) => m[1]);
  const texts = [
    ...contributes.viewsWelcome.map((w: { contents: string }) => w.contents),
    ...contributes.walkthroughs.flatMap((w: { steps: { description: string }[] }) => w.steps.map((s) => s.description)),
  ];
  for (const command of texts.flatMap(linked)) assert.ok(declared.has(command) || builtIn.has(command), command);
});

test('activation is lazy: no "*", activates on experiment files, the views and the dashboard', () => {
  assert.ok(!pkg.activationEvents.includes('*'));
  for (const event of ['workspaceContains:**/*.lab.json', 'onView:modelLab.runs', 'onWebviewPanel:modelLab.dashboard']) {
    assert.ok(pkg.activationEvents.includes(event), event);
  }
  assert.equal(pkg.main, './dist/extension.js');
});

test('views: a Model Lab container with the Runs tree and the Live webview', () => {
  const [container] = contributes.viewsContainers.activitybar;
  assert.equal(container.id, 'modelLab');
  assert.ok(fs.existsSync(path.join(root, container.icon)), container.icon);
  assert.match(fs.readFileSync(path.join(root, container.icon), 'utf8'), /currentColor/);
  const views = contributes.views.modelLab.map((v: { id: string; type?: string }) => [v.id, v.type ?? 'tree']);
  assert.deepEqual(views, [
    ['modelLab.runs', 'tree'],
    ['modelLab.live', 'webview'],
  ]);
});

test('walkthrough media files exist', () => {
  for (const walkthrough of contributes.walkthroughs) {
    for (const step of walkthrough.steps) {
      assert.ok(fs.existsSync(path.join(root, step.media.markdown)), step.media.markdown);
    }
  }
});

test('runs folders are excluded from watching and search by default', () => {
  const defaults = contributes.configurationDefaults;
  assert.equal(defaults['files.watcherExclude']['**/.model-lab/runs/**'], true);
  assert.equal(defaults['search.exclude']['**/.model-lab/runs/**'], true);
  assert.deepEqual(contributes.jsonValidation, [{ fileMatch: '*.lab.json', url: './dist/experiment.editor.schema.json' }]);
});
