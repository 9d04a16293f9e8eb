/**
 * The Runs tree (view `modelLab.runs`): runs grouped by experiment, with state icons, live step
 * counts, tags and notes. Selecting one run shows it in the Live view. What to show is computed
 * in `runsTreeModel.ts`; this file only builds tree items.
 */
import * as vscode from 'vscode';
import type { RunSummary } from '../protocol';
import type { RunRegistry } from './runRegistry';
import {
  groupByExperiment,
  groupDescription,
  isActive,
  runContextValue,
  runDescription,
  runLabel,
  runTooltipLines,
  STATE_COLORS,
  STATE_ICONS,
  type ExperimentGroup,
} from './runsTreeModel';

export type RunsTreeNode = { kind: 'experiment'; group: ExperimentGroup } | { kind: 'run'; run: RunSummary };

export class RunsTree implements vscode.TreeDataProvider<RunsTreeNode>, vscode.Disposable {
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
    return this.view.selection.flatMap((node) => (node.kind === 'run' ? [node.run] : node.group.runs));
  }

  getChildren(node?: RunsTreeNode): RunsTreeNode[] {
    if (!node) {
      const groups = groupByExperiment(this.registry.listRuns());
      this.updateBadge();
      return groups.map((group) => ({ kind: 'experiment', group }));
    }
    return node.kind === 'experiment' ? node.group.runs.map((run) => ({ kind: 'run', run })) : [];
  }

  getParent(node: RunsTreeNode): RunsTreeNode | undefined {
    if (node.kind === 'experiment') return undefined;
    const group = groupByExperiment(this.registry.listRuns()).find((g) => g.experiment === node.run.experiment);
    return group ? { kind: 'experiment', group } : undefined;
  }

  getTreeItem(node: RunsTreeNode): vscode.TreeItem {
    if (node.kind === 'experiment') {
      const item = new vscode.TreeItem(node.group.experiment || '(unknown experiment)', vscode.TreeItemCollapsibleState.Expanded);
      item.id = `experiment:${node.group.experiment}`;
      item.description = groupDescription(node.group);
      item.iconPath = new vscode.ThemeIcon('beaker');
      item.contextValue = 'experiment';
      return item;
    }
    const run = node.run;
    const item = new vscode.TreeItem(runLabel(run), vscode.TreeItemCollapsibleState.None);
    item.id = `run:${run.id}`;
    item.description = runDescription(run);
    const color = STATE_COLORS[run.state];
    item.iconPath = new vscode.ThemeIcon(STATE_ICONS[run.state], color ? new vscode.ThemeColor(color) : undefined);
    item.contextValue = runContextValue(run);
    const tooltip = new vscode.MarkdownString();
    runTooltipLines(run).forEach((line, index) => {
      tooltip.appendText(line);
      if (index === 0) tooltip.appendMarkdown('\n\n');
      else tooltip.appendMarkdown('  \n');
    });
    item.tooltip = tooltip;
    item.accessibilityInformation = { label: `${run.name}, ${run.state}, ${runDescription(run)}` };
    return item;
  }

  refresh(): void {
    this.changed.fire();
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
  }

  private updateBadge(): void {
    const active = this.registry.listRuns().filter(isActive).length;
    this.view.badge = active > 0 ? { value: active, tooltip: `${active} run${active === 1 ? '' : 's'} training` } : undefined;
  }
}
