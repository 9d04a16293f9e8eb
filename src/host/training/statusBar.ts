/**
 * Status-bar items: the run training in this window (progress and time left; click: its
 * dashboard), a Stop button next to it (the progress notification closes once training is under
 * way, so stopping stays one click away), and the TensorFlow.js backend in use (click: the
 * output, which says why it was chosen). Also keeps the `modelLab.hasActiveRun` context key for menus.
 */
import * as vscode from 'vscode';
import { kernelSummary } from '../../engine/kernelSummary';
import type { BackendInfo, RunSummary } from '../../protocol';
import { describeBackend, type EngineHost } from './engineHost';
import { ProgressSampler, progressSamples, timingParts } from '../../shared/progress';
import { latestLoss, progressText } from './progressText';
import type { RunRegistry } from '../runs/runRegistry';
import { activeByPreference, isActive } from '../runs/runsTreeModel';
import { runDisplayName } from '../../shared/runs';

export class StatusBar implements vscode.Disposable {
  private readonly runItem = vscode.window.createStatusBarItem('modelLab.activeRun', vscode.StatusBarAlignment.Left, 10);
  private readonly stopItem = vscode.window.createStatusBarItem('modelLab.stopActiveRun', vscode.StatusBarAlignment.Left, 9.5);
  private readonly backendItem = vscode.window.createStatusBarItem('modelLab.backend', vscode.StatusBarAlignment.Left, 9);
  private readonly losses = new Map<string, number>();
  private readonly samplers = new Map<string, ProgressSampler>();
  private readonly subscriptions: vscode.Disposable[] = [];
  private hasActiveRun?: boolean;

  constructor(
    private readonly registry: RunRegistry,
    engineHost: EngineHost,
  ) {
    this.runItem.name = 'Model Lab: Active Run';
    this.stopItem.name = 'Model Lab: Stop Active Run';
    this.backendItem.name = 'Model Lab: Backend';
    this.backendItem.command = 'modelLab.showOutput';
    this.subscriptions.push(
      registry.onDidChange(() => this.update()),
      registry.onMetrics((runId, records) => {
        const loss = latestLoss(records);
        if (loss !== undefined) this.losses.set(runId, loss);
        this.samplerOf(runId).add(progressSamples(records));
        this.update();
      }),
      engineHost.onDidChangeBackend((info) => this.showBackend(info)),
    );
    this.update();
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    this.runItem.dispose();
    this.stopItem.dispose();
    this.backendItem.dispose();
  }

  private update(): void {
    // Jobs of this window first (newest started last), then anything active on disk.
    const ownIds = this.registry.activeJobRunIds();
    const own = ownIds.map((id) => this.registry.readRun(id)).filter((run): run is RunSummary => run !== undefined);
    const others = this.registry.listRuns().filter((run) => isActive(run) && !ownIds.includes(run.id));
    const active = activeByPreference([...own.reverse(), ...others]);
    this.setHasActiveRun(active.length > 0);
    const run = active[0];
    if (!run) {
      this.runItem.hide();
      this.stopItem.hide();
      return;
    }
    const more = active.length > 1 ? ` (+${active.length - 1})` : '';
    const icon = run.state === 'queued' ? '$(clock)' : '$(sync~spin)';
    const estimate = this.samplerOf(run.id).estimate(run);
    const progress = run.state === 'queued' ? 'queued' : progressText(run.step, run.totalSteps, this.losses.get(run.id), estimate, 'left');
    const timing = run.state === 'queued' ? [] : timingParts(estimate);
    const name = runDisplayName(run);
    this.runItem.text = `${icon} ${name}: ${progress}${more}`;
    this.runItem.tooltip = `Model Lab: ${name} (${run.experiment}) is ${run.state}${timing.length ? ` (${timing.join(', ')})` : ''}. Click to open its dashboard.`;
    this.runItem.command = { title: 'Open Run', command: 'modelLab.openRun', arguments: [run.id] };
    this.runItem.show();
    this.stopItem.text = '$(debug-stop)';
    this.stopItem.tooltip = `Stop ${name} (Resume continues from its last checkpoint)`;
    this.stopItem.accessibilityInformation = { label: `Stop run ${name}` };
    this.stopItem.command = { title: 'Stop Run', command: 'modelLab.stop', arguments: [run.id] };
    // Only this window's jobs can be stopped from here (another process's run is stopped there).
    if (ownIds.includes(run.id)) this.stopItem.show();
    else this.stopItem.hide();
  }

  private samplerOf(runId: string): ProgressSampler {
    let sampler = this.samplers.get(runId);
    if (!sampler) this.samplers.set(runId, (sampler = new ProgressSampler()));
    return sampler;
  }

  private showBackend(info: BackendInfo | undefined): void {
    if (!info) {
      this.backendItem.hide();
      return;
    }
    // On wasm the text also counts Model Lab's kernels: a missing one makes training slower.
    const kernels = info.name === 'wasm' ? `, ${kernelSummary(info, { reasons: false })}` : '';
    const kernelsMissing = info.kernels?.some((kernel) => !kernel.active) ?? false;
    this.backendItem.text = `$(beaker) ${info.name}${kernels}`;
    this.backendItem.tooltip = `Model Lab trains with the TensorFlow.js ${describeBackend(info)}; ${kernelSummary(info)}. Click for the log.`;
    this.backendItem.backgroundColor = info.fallbackReason || kernelsMissing ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.backendItem.show();
  }

  private setHasActiveRun(value: boolean): void {
    if (this.hasActiveRun === value) return;
    this.hasActiveRun = value;
    void vscode.commands.executeCommand('setContext', 'modelLab.hasActiveRun', value);
  }
}
