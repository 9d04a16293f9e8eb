/**
 * Model Lab's entry point: creates the host parts and wires them together, nothing else.
 * Training happens in worker threads owned by the engine (src/engine); the host orchestrates.
 */
import * as vscode from 'vscode';
import { registerTrainCodeLens } from './host/editor/codeLens';
import { registerCommands } from './host/commands';
import { SpecDiagnostics } from './host/editor/diagnostics';
import { EngineHost } from './host/training/engineHost';
import { createOutputChannel, logTo } from './host/output';
import { attentionPanel } from './host/panels/attentionPanel';
import { dashboardPanel, dashboardProvider } from './host/panels/dashboardPanel';
import { registerLiveView } from './host/panels/liveView';
import { posteriorPanel } from './host/panels/posteriorPanel';
import { runsTablePanel } from './host/panels/runsTablePanel';
import { panelHost, type PanelDeps, type PanelModule } from './host/panels/registration';
import { samplerPanel } from './host/panels/samplerPanel';
import { similarityPanel } from './host/panels/similarityPanel';
import { RunRegistry } from './host/runs/runRegistry';
import { RunsTree } from './host/runs/runsTree';
import { RunsWatcher } from './host/runs/runsWatcher';
import { SETTINGS_SECTION } from './host/settings';
import { StatusBar } from './host/training/statusBar';
import { TrainingController } from './host/training/training';

/** Every editor panel: each registers its serializer and the commands that open it; a lab's also draws its Live miniature. */
const PANELS: readonly PanelModule[] = [dashboardPanel, attentionPanel, posteriorPanel, similarityPanel, samplerPanel, runsTablePanel];

let engineHost: EngineHost | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const output = createOutputChannel();
  const log = logTo(output);
  const registry = new RunRegistry({ log });
  engineHost = new EngineHost(context.extensionPath, log);
  const diagnostics = new SpecDiagnostics(log);
  const training = new TrainingController({
    engineHost,
    registry,
    diagnostics,
    log,
  });
  registry.setActions(training);

  const hostEngine = engineHost;
  const dashboards = panelHost({ context, log }, dashboardProvider(context, registry));
  const panelDeps: PanelDeps = { context, registry, engineHost: hostEngine, training, log, dashboards };
  const liveView = registerLiveView(panelDeps, PANELS);
  const tree = new RunsTree(registry, (runId) => liveView.showRun(runId));

  context.subscriptions.push(
    output,
    { dispose: () => registry.dispose() },
    diagnostics,
    new RunsWatcher(registry, log),
    new StatusBar(registry, hostEngine),
    tree,
    registerTrainCodeLens(),
    ...registerCommands({ context, registry, training, tree, liveView, dashboards, output, log }),
    ...PANELS.flatMap((panel) => panel.register(panelDeps)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(SETTINGS_SECTION)) hostEngine.settingsChanged();
    }),
  );
  log('info', `Model Lab ${context.extension.packageJSON.version ?? ''} activated.`);
}

/** Stops the workers; runs still training end 'cancelled' (or 'interrupted' if the host is killed first). */
export async function deactivate(): Promise<void> {
  await engineHost?.dispose();
  engineHost = undefined;
}
