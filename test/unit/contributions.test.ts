// package.json's lab contributions (commands, Runs-view and Explorer menus, panel activation
// events) are generated from the lab manifests by scripts/contributions.ts: this fails when
// package.json is out of sync with them, and pins the menus the end-to-end tests click.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageJsonText, withLabContributions } from '../../scripts/contributions';
import type { LabManifest } from '../../src/core/labManifest';
import { LABS } from '../../src/core/labList';
import { retrievalLab } from '../../src/core/retrieval/manifest';

const file = join(__dirname, '..', '..', 'package.json');
const text = readFileSync(file, 'utf8');
const pkg = JSON.parse(text) as Record<string, unknown>;

interface Contributes {
  commands: { command: string; title: string; icon: string }[];
  menus: Record<string, { command: string; when: string; group: string }[]>;
}
const contributes = (json: Record<string, unknown>) => json.contributes as Contributes;
const menusOf = (json: Record<string, unknown>, command: string) =>
  Object.entries(contributes(json).menus).flatMap(([list, entries]) => entries.filter((e) => e.command === command).map((e) => ({ list, ...e })));

test('package.json holds exactly the contributions the lab manifests generate (npm run contributions:update)', () => {
  assert.equal(packageJsonText(withLabContributions(pkg)), text, 'package.json is out of sync with the lab manifests: run npm run contributions:update');
});

test('a changed manifest makes package.json out of sync; a lab entry removed by hand comes back', () => {
  const renamed = LABS.map((lab) => (lab.id === 'retrieval' ? { ...lab, commands: lab.commands.map((c) => ({ ...c, title: `${c.title}!` })) } : lab));
  assert.notEqual(packageJsonText(withLabContributions(pkg, renamed)), text);
  const pruned = structuredClone(pkg);
  const prunedContributes = contributes(pruned);
  prunedContributes.commands = prunedContributes.commands.filter((c) => c.command !== 'modelLab.openSimilarity');
  prunedContributes.menus['view/item/context'] = prunedContributes.menus['view/item/context'].filter((m) => m.command !== 'modelLab.openSimilarity');
  assert.equal(packageJsonText(withLabContributions(pruned)), text);
});

test('a new lab gets its command, its Runs-view menu by context value and its activation event', () => {
  const fixture: LabManifest = {
    ...retrievalLab,
    id: 'fixture',
    tasks: [],
    models: [],
    objectives: [],
    panel: { viewType: 'modelLab.fixture', title: 'Fixture', command: 'modelLab.openFixture' },
    commands: [{ id: 'modelLab.openFixture', title: 'Open Fixture', icon: 'beaker', menus: [{ where: 'runs', group: '1_open@7' }] }],
    runContext: 'fixture',
  };
  const generated = withLabContributions(pkg, [...LABS, fixture]);
  assert.deepEqual(contributes(generated).commands.at(-1), { command: 'modelLab.openFixture', title: 'Open Fixture', category: 'Model Lab', icon: '$(beaker)' });
  assert.deepEqual(menusOf(generated, 'modelLab.openFixture'), [
    { list: 'view/item/context', command: 'modelLab.openFixture', when: 'view == modelLab.runs && viewItem =~ /^run\\.[a-z]+\\.fixture$/', group: '1_open@7' },
  ]);
  assert.equal((generated.activationEvents as string[]).at(-1), 'onWebviewPanel:modelLab.fixture');
  // Hand-written contributions stay where they are.
  assert.deepEqual(contributes(generated).commands.slice(0, 5), contributes(pkg).commands.slice(0, 5));
});

test('the lab menus keep the command ids, titles, when clauses and groups the Runs view and the e2e tests rely on', () => {
  const titles = Object.fromEntries(contributes(pkg).commands.map((c) => [c.command, c.title]));
  assert.deepEqual(
    {
      openAttention: titles['modelLab.openAttention'],
      compareAttention: titles['modelLab.compareAttention'],
      trainComparison: titles['modelLab.trainComparison'],
      openPosterior: titles['modelLab.openPosterior'],
      openSimilarity: titles['modelLab.openSimilarity'],
    },
    {
      openAttention: 'Open Attention Composition',
      compareAttention: 'Compare Attention',
      trainComparison: 'Train Comparison',
      openPosterior: 'Open Posterior',
      openSimilarity: 'Open Similarity',
    },
  );
  const runs = 'view == modelLab.runs && viewItem =~ ';
  assert.deepEqual(menusOf(pkg, 'modelLab.openAttention'), [{ list: 'view/item/context', command: 'modelLab.openAttention', when: `${runs}/^run\\.[a-z]+\\.attention$/`, group: '1_open@4' }]);
  assert.deepEqual(menusOf(pkg, 'modelLab.compareAttention'), [{ list: 'view/item/context', command: 'modelLab.compareAttention', when: `${runs}/^run\\.[a-z]+\\.attention$/`, group: '1_open@5' }]);
  assert.deepEqual(menusOf(pkg, 'modelLab.trainComparison'), [{ list: 'explorer/context', command: 'modelLab.trainComparison', when: 'explorerResourceIsFolder', group: 'modelLab@2' }]);
  assert.deepEqual(menusOf(pkg, 'modelLab.openPosterior'), [{ list: 'view/item/context', command: 'modelLab.openPosterior', when: `${runs}/^run\\.[a-z]+\\.posterior$/`, group: '1_open@6' }]);
  assert.deepEqual(menusOf(pkg, 'modelLab.openSimilarity'), [
    { list: 'view/item/context', command: 'modelLab.openSimilarity', when: `${runs}/^(run\\.[a-z]+\\.similarity|sweep)$/`, group: '1_open@4' },
    { list: 'view/item/context', command: 'modelLab.openSimilarity', when: 'view == modelLab.runs && viewItem == sweep', group: 'inline@1' },
  ]);
  for (const viewType of ['attention', 'posterior', 'similarity']) {
    assert.ok((pkg.activationEvents as string[]).includes(`onWebviewPanel:modelLab.${viewType}`), viewType);
  }
});
