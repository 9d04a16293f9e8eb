/**
 * The package.json contributions a lab needs, generated from the lab manifests (src/core/labList.ts):
 * each lab command (its title, icon, category), its menus (the Runs view's context menu of the
 * lab's runs by their context value `run.<state>.<runContext>`, of sweeps, the Explorer's folders)
 * and the `onWebviewPanel:` activation event of its panel. Everything else in package.json is
 * written by hand and kept as it is; lab entries are replaced and follow the hand-written ones.
 *   npm run contributions:update    (node --import tsx scripts/contributions.ts update)
 *   node --import tsx scripts/contributions.ts check     exits 1 when package.json is out of date
 * test/unit/contributions.test.ts fails when package.json is out of sync with the manifests.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabCommand, LabManifest, LabMenu } from '../src/core/labManifest';
import { LABS } from '../src/core/labList';

type Json = Record<string, unknown>;
interface MenuEntry {
  command: string;
  when: string;
  group: string;
}

const RUNS_VIEW = 'view == modelLab.runs';
const CATEGORY = 'Model Lab';

/** Where a lab menu goes in package.json, and its `when` clause. */
function menuEntry(lab: LabManifest, command: LabCommand, menu: LabMenu): { list: string; entry: MenuEntry } {
  const runs = `^run\\.[a-z]+\\.${lab.runContext}`;
  const at = (list: string, when: string) => ({ list, entry: { command: command.id, when, group: menu.group } });
  switch (menu.where) {
    case 'runs':
      return at('view/item/context', `${RUNS_VIEW} && viewItem =~ /${runs}$/`);
    case 'runsAndSweeps':
      return at('view/item/context', `${RUNS_VIEW} && viewItem =~ /^(${runs.slice(1)}|sweep)$/`);
    case 'sweepInline':
      return at('view/item/context', `${RUNS_VIEW} && viewItem == sweep`);
    case 'explorerFolder':
      return at('explorer/context', 'explorerResourceIsFolder');
  }
}

/** package.json with every lab contribution regenerated from `labs` (the input is not changed). */
export function withLabContributions(packageJson: Json, labs: readonly LabManifest[] = LABS): Json {
  const pkg = structuredClone(packageJson) as Json & { contributes: Json & { commands: Json[]; menus: Record<string, MenuEntry[]> }; activationEvents: string[] };
  const labCommands = labs.flatMap((lab) => lab.commands);
  const generatedIds = new Set(labCommands.map((command) => command.id));
  const panelEvents = labs.flatMap((lab) => (lab.panel ? [`onWebviewPanel:${lab.panel.viewType}`] : []));
  // A lab entry is recognised by its command id (or activation event) and replaced.
  pkg.contributes.commands = [
    ...pkg.contributes.commands.filter((entry) => !generatedIds.has(entry.command as string)),
    ...labCommands.map((command) => ({ command: command.id, title: command.title, category: CATEGORY, icon: `$(${command.icon})` })),
  ];
  const menus: Record<string, MenuEntry[]> = {};
  for (const [list, entries] of Object.entries(pkg.contributes.menus)) menus[list] = entries.filter((entry) => !generatedIds.has(entry.command));
  for (const lab of labs) {
    for (const command of lab.commands) {
      for (const menu of command.menus) {
        const { list, entry } = menuEntry(lab, command, menu);
        (menus[list] ??= []).push(entry);
      }
    }
  }
  pkg.contributes.menus = menus;
  pkg.activationEvents = [...pkg.activationEvents.filter((event) => !panelEvents.includes(event)), ...panelEvents];
  return pkg;
}

/** package.json's text as npm writes it. */
export const packageJsonText = (pkg: Json): string => `${JSON.stringify(pkg, null, 2)}\n`;

function main(): void {
  const mode = process.argv[2];
  const file = join(__dirname, '..', 'package.json');
  const current = readFileSync(file, 'utf8');
  const generated = packageJsonText(withLabContributions(JSON.parse(current) as Json));
  if (mode === 'update') {
    if (generated !== current) writeFileSync(file, generated);
    console.log(generated === current ? 'package.json: lab contributions up to date' : 'package.json: lab contributions updated');
  } else if (mode === 'check') {
    if (generated !== current) {
      console.error('package.json: the lab contributions differ from the manifests: run npm run contributions:update');
      process.exit(1);
    }
    console.log('package.json: lab contributions up to date');
  } else {
    console.error('usage: node --import tsx scripts/contributions.ts update|check');
    process.exit(2);
  }
}

if (require.main === module) main();
