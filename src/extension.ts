/**
 * Model Lab's entry point: creates the host parts and wires them together, nothing else.
 * Training happens in worker threads owned by the engine (src/engine); the host orchestrates.
 */
import * as vscode from 'vscode';
import { registerTrainCodeLens } from './host/codeLens';
import { registerAttentionPanel } from './host/attentionPanel';
import { registerCommands } from './host/commands';
import { registerDashboardSerializer } from './host/dashboardPanel';
import { registerPosteriorPanel } from './host/posteriorPanel';
import { registerSimilarity } from './host/similarityPanel';
import { SpecDiagnostics } from './host/diagnostics';
import { EngineHost } from './host/engineHost';
import { registerLiveView } from './host/liveView';
import { createOutputChannel, logTo } from './host/output';
import { RunRegistry } from './host/runRegistry';
import { RunsTree } from './host/runsTree';
import { RunsWatcher } from './host/runsWatcher';
import { SETTINGS_SECTION } from './host/settings';
import { StatusBar } from './host/statusBar';
import { TrainingController } from './host/training';

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

  const liveView = registerLiveView(context, registry, { engine: engineHost, log });
  const tree = new RunsTree(registry, (runId) => liveView.showRun(runId));
  const hostEngine = engineHost;

  context.subscriptions.push(
    output,
    { dispose: () => registry.dispose() },
    diagnostics,
    new RunsWatcher(registry, log),
    new StatusBar(registry, hostEngine),
    tree,
    registerTrainCodeLens(),
    ...registerCommands({ context, registry, training, tree, liveView, output, log }),
    ...registerAttentionPanel({ context, registry, engineHost: hostEngine, training, log }),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(SETTINGS_SECTION)) hostEngine.settingsChanged();
    }),
  );
  registerDashboardSerializer(context, registry);
  registerPosteriorPanel(context, { runs: registry, engine: hostEngine, log });
  registerSimilarity(context, { registry, engineHost: hostEngine, log });
  log('info', `Model Lab ${context.extension.packageJSON.version ?? ''} activated.`);
}

/** Stops the workers; runs still training end 'cancelled' (or 'interrupted' if the host is killed first). */
export async function deactivate(): Promise<void> {
  await engineHost?.dispose();
  engineHost = undefined;
}
