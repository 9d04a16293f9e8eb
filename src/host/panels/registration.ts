/**
 * How a panel joins the extension: every editor panel module exports one `PanelModule` (its
 * registration: serializer and the commands that open it; for a lab panel, the lab's picture in
 * the Live view), and src/extension.ts registers them through one list. An open command resolves
 * to the target to show (or undefined when the user cancelled or was told why not); the panel
 * host reveals or creates the panel.
 */
import * as vscode from 'vscode';
import type { SpecNames } from '../../core/labManifest';
import type { SessionClient } from '../../engine/engine';
import type { LabMiniature } from '../../protocol/live';
import type { EngineHost } from '../training/engineHost';
import { logError, type Log } from '../output';
import type { RunRegistry } from '../runs/runRegistry';
import type { TrainingController } from '../training/training';
import type { Messages } from '../../protocol/channel';
import { PanelHost, type PanelHostEnv, type PanelProvider } from './panelHost';
import type { PageMessages } from './webviewPage';

/** What the panels are built from. */
export interface PanelDeps {
  context: vscode.ExtensionContext;
  registry: RunRegistry;
  engineHost: EngineHost;
  training: TrainingController;
  log: Log;
  /** The dashboards: every view can open one (Live view, commands, Train Comparison). */
  dashboards: Pick<PanelHost<string[]>, 'show' | 'register'>;
}

/** The one registration shape: returns what the extension disposes on deactivation. */
export type PanelRegistration = (deps: PanelDeps) => vscode.Disposable[];

/** A lab's picture of a run in the Live view, from an inference session on its latest checkpoint. */
export type DrawMiniature = (session: SessionClient, spec: SpecNames) => Promise<Pick<LabMiniature, 'caption' | 'picture'>>;

/** One entry of the panel list (src/extension.ts). */
export interface PanelModule {
  register: PanelRegistration;
  /** The Live view's picture of a run of this panel's lab (`lab`: the manifest's id; it declares the miniature). */
  miniature?: { lab: string; draw: DrawMiniature };
}

/** Opens a panel from a command's arguments: the target to show, or undefined. */
// Command arguments are whatever VS Code passes (tree node, id, nothing): `...args: any[]` (allowed by the lint config).
export type OpenCommand<Target> = (...args: any[]) => Promise<Target | undefined>;

export function panelHostEnv(deps: Pick<PanelDeps, 'context' | 'log'>): PanelHostEnv {
  return { window: vscode.window, extensionUri: deps.context.extensionUri, log: deps.log };
}

/** Registers a panel kind: its serializer and the commands that open it. */
export function registerPanel<Target>(
  deps: Pick<PanelDeps, 'log'>,
  host: Pick<PanelHost<Target>, 'show' | 'register'>,
  openCommands: Record<string, OpenCommand<Target>> = {},
): vscode.Disposable[] {
  return [
    host.register(),
    ...Object.entries(openCommands).map(([id, open]) =>
      guardedCommand(deps.log, id, async (...args: unknown[]) => {
        const target = await open(...args);
        if (target !== undefined) host.show(target);
      }),
    ),
  ];
}

/** A host for `provider`'s panels in this window. */
export function panelHost<Target, Local extends Messages, Remote extends PageMessages>(
  deps: Pick<PanelDeps, 'context' | 'log'>,
  provider: PanelProvider<Target, Local, Remote>,
): PanelHost<Target, Local, Remote> {
  return new PanelHost(provider, panelHostEnv(deps));
}

/** A command whose failure ends in a short notification; the details go to the log. */
export function guardedCommand(log: Log, id: string, handler: (...args: unknown[]) => Promise<void>): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
    try {
      await handler(...args);
    } catch (error) {
      void vscode.window.showErrorMessage(`Model Lab: ${logError(log, `Command ${id} failed`, error)}`);
    }
  });
}
