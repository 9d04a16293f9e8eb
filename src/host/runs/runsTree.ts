/**
 * The Runs tree (view `modelLab.runs`): runs grouped by experiment, with state icons, live step
 * counts, tags and notes. Selecting one run shows it in the Live view. What to show is computed
 * in `runsTreeModel.ts`; this file only builds tree items.
 */
import * as vscode from 'vscode';
import type { RunSummary } from '../../protocol';
import { initStepOffset, runDisplayName, type RunInit } from '../../shared/runs';
import type { RunRegistry } from './runRegistry';
import { labOf } from '../../core/labList';
import {
  groupByExperiment,
  groupBySweep,
  groupDescription,
  sweepDescription,
  type SweepGroup,
  isActive,
  runContextValue,
  runDescription,
  runLabel,
  runTooltipLines,
  continuesText,
  nestContinuations,
  nestedContinuationDescription,
  STATE_COLORS,
  STATE_ICONS,
  type ExperimentGroup,
} from './runsTreeModel';

export type RunsTreeNode =
  | { kind: 'experiment'; group: ExperimentGroup }
  /** `group` holds the member runs, so commands that act on a group's runs act on the members. */
  | { kind: 'sweep'; sweep: SweepGroup; group: ExperimentGroup }
  /**
   * `memberLabel`: the run is a sweep member, shown by its grid values. `continuations`: the runs
   * of its group that continue it, nested under it (runsTreeModel nestContinuations).
   */
  | { kind: 'run'; run: RunSummary; memberLabel?: string; continuations?: RunsTreeNode[]; nested?: boolean };

export class RunsTree implements vscode.TreeDataProvider<RunsTreeNode>, vscode.Disposable {
  private readonly labs = new Map<string, string | undefined>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  readonly view: vscode.TreeView<RunsTreeNode>;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly registry: RunRegistry,
    onSelectRun: (runId: string) => void,
  ) {
    this.view = vscode.window.createTreeView('modelLab.runs', {
      treeDataProvider: this,
      canSelectMany: true,
      showCollapseAll: true,
    });
    this.subscriptions.push(
      this.view,
      this.changed,
      registry.onDidChange(() => this.changed.fire()),
      this.view.onDidChangeSelection((event) => {
        const [first] = event.selection;
        if (event.selection.length === 1 && first.kind === 'run') onSelectRun(first.run.id);
      }),
    );
  }

  /** Runs selected in the tree (for multi-select commands). */
  selectedRuns(): RunSummary[] {
    return this.view.selection.flatMap((node) => nodeRuns(node));
  }

  getChildren(node?: RunsTreeNode): RunsTreeNode[] {
    if (!node) {
      const { sweeps, others } = groupBySweep(this.registry.listRuns(), this.registry.listSweeps());
      this.updateBadge();
      return [
        ...sweeps.map(sweepNode),
        ...groupByExperiment(others).map((group): RunsTreeNode => ({ kind: 'experiment', group })),
      ];
    }
    if (node.kind === 'sweep') {
      return node.sweep.members.flatMap(({ run, label }) => (run ? [{ kind: 'run', run, memberLabel: label } as RunsTreeNode] : []));
    }
    if (node.kind === 'experiment') return groupRunNodes(node.group);
    return node.continuations ?? [];
  }

  getParent(node: RunsTreeNode): RunsTreeNode | undefined {
    if (node.kind !== 'run') return undefined;
    const { sweeps, others } = groupBySweep(this.registry.listRuns(), this.registry.listSweeps());
    const sweep = sweeps.find((s) => s.members.some((m) => m.runId === node.run.id));
    if (sweep) return sweepNode(sweep);
    const group = groupByExperiment(others).find((g) => g.experiment === node.run.experiment);
    if (!group) return undefined;
    const holder = flattenNodes(groupRunNodes(group)).find((n) => n.kind === 'run' && n.continuations?.some((c) => c.kind === 'run' && c.run.id === node.run.id));
    return holder ?? { kind: 'experiment', group };
  }

  getTreeItem(node: RunsTreeNode): vscode.TreeItem {
    if (node.kind === 'sweep') {
      const item = new vscode.TreeItem(node.sweep.name, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `sweep:${node.sweep.sweepId}`;
      item.description = sweepDescription(node.sweep);
      item.tooltip = `Sweep ${node.sweep.sweepId}\n${sweepDescription(node.sweep)}\nCreated: ${node.sweep.createdAt}`;
      item.iconPath = new vscode.ThemeIcon('layers');
      item.contextValue = 'sweep';
      return item;
    }
    if (node.kind === 'experiment') {
      const item = new vscode.TreeItem(node.group.experiment || '(unknown experiment)', vscode.TreeItemCollapsibleState.Expanded);
      item.id = `experiment:${node.group.experiment}`;
      item.description = groupDescription(node.group);
      item.iconPath = new vscode.ThemeIcon('beaker');
      item.contextValue = 'experiment';
      return item;
    }
    const run = node.run;
    const collapsible = node.continuations?.length ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None;
    const item = new vscode.TreeItem(node.memberLabel ?? runLabel(run), collapsible);
    // A new id once the run holds continuations: VS Code keeps a known item's collapsed state, so
    // a leaf that gains a continuation would stay closed and hide it.
    item.id = node.continuations?.length ? `run:${run.id}:continued` : `run:${run.id}`;
    const parent = run.init ? this.registry.readRun(run.init.run) : undefined;
    const continues = continuesText(run, parent);
    const described = continues ? `${runDescription(run)} · ${continues}` : runDescription(run);
    // Nested under the run it continues, the row needs only the steps (the full text is spoken and in the tooltip).
    item.description = node.nested ? nestedContinuationDescription(run, initStepOffset(run, (id) => this.registry.readRun(id))) : described;
    const color = STATE_COLORS[run.state];
    item.iconPath = new vscode.ThemeIcon(STATE_ICONS[run.state], color ? new vscode.ThemeColor(color) : undefined);
    item.contextValue = runContextValue(run, this.labPanel(run.id));
    const tooltip = new vscode.MarkdownString();
    runTooltipLines(run).forEach((line, index) => {
      tooltip.appendText(line);
      if (index === 0) tooltip.appendMarkdown('\n\n');
      else tooltip.appendMarkdown('  \n');
    });
    if (run.init) appendContinuesLink(tooltip, run.init, parent);
    item.tooltip = tooltip;
    item.accessibilityInformation = { label: `${run.name}, ${run.state}, ${described}` };
    return item;
  }

  refresh(): void {
    this.changed.fire();
  }

  /** The Runs-view context of the run's lab (its manifest's `runContext`); its spec never changes, so it is read once per run. */
  private labPanel(runId: string): string | undefined {
    if (!this.labs.has(runId)) this.labs.set(runId, labOf(this.registry.readSpec(runId))?.runContext);
    return this.labs.get(runId);
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
  }

  private updateBadge(): void {
    const active = this.registry.listRuns().filter(isActive).length;
    this.view.badge = active > 0 ? { value: active, tooltip: `${active} run${active === 1 ? '' : 's'} training` } : undefined;
  }
}

/** The runs a node stands for: itself, or every run of its group or sweep. */
export function nodeRuns(node: RunsTreeNode): RunSummary[] {
  if (node.kind === 'run') return [node.run];
  return node.group.runs;
}

/** The run nodes of an experiment group: runs that continue another run of the group nested under it. */
function groupRunNodes(group: ExperimentGroup): RunsTreeNode[] {
  const { roots, continuations } = nestContinuations(group.runs);
  const nodeOf = (run: RunSummary, nested: boolean): RunsTreeNode => {
    const children = (continuations.get(run.id) ?? []).map((child) => nodeOf(child, true));
    return { kind: 'run', run, ...(children.length ? { continuations: children } : {}), ...(nested ? { nested } : {}) };
  };
  return roots.map((run) => nodeOf(run, false));
}

/** Every node of a list and its nested continuations. */
function flattenNodes(nodes: readonly RunsTreeNode[]): RunsTreeNode[] {
  return nodes.flatMap((node) => [node, ...(node.kind === 'run' ? flattenNodes(node.continuations ?? []) : [])]);
}

function sweepNode(sweep: SweepGroup): RunsTreeNode {
  const runs = sweep.members.flatMap((member) => (member.run ? [member.run] : []));
  return { kind: 'sweep', sweep, group: { experiment: sweep.name, runs } };
}

/** `Continues <parent> at step N`, the parent a link that opens it (Open Run). */
function appendContinuesLink(tooltip: vscode.MarkdownString, init: RunInit, parent: RunSummary | undefined): void {
  const open = `command:modelLab.openRun?${encodeURIComponent(JSON.stringify([init.run]))}`;
  tooltip.appendMarkdown('Continues ');
  tooltip.appendMarkdown(`[${escapeMarkdown(parent ? runDisplayName(parent) : init.run)}](${open})`);
  tooltip.appendText(` at step ${init.step}`);
  tooltip.isTrusted = { enabledCommands: ['modelLab.openRun'] };
}

const escapeMarkdown = (text: string): string => text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
