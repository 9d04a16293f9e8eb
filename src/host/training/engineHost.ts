/**
 * Owns the training engine for this window: created lazily on the first training request with
 * the current `modelLab.*` settings, recreated when those settings change while no job runs
 * (otherwise once the running jobs have ended), and disposed on deactivation.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { Engine, type SessionClient, type TrainingJob } from '../../engine/engine';
import type { LoadedSweep } from '../../app/launch';
import { kernelsInUse } from '../../engine/kernelSummary';
import { expandSweepOffThread } from '../../engine/sweepExpansion';
import type { BackendInfo } from '../../protocol';
import type { ResolvedSpec } from '../../core/spec/types';
import type { WeightShape } from '../../core/weightLayout';
import { errorMessage } from '../../shared/errors';
import type { Log } from '../output';
import { SESSIONS_NEED_TRUST } from '../trust';
import { engineOptionsFrom, readEngineSettings, sameEngineSettings, SETTINGS_SECTION, type EngineSettings } from '../settings';

/** Settings that cannot be used; the message lists each problem. */
export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`Model Lab settings need a fix: ${problems.join('; ')}`);
    this.name = 'SettingsError';
  }
}

export function describeBackend(info: BackendInfo): string {
  const requested = info.requested !== info.name ? ` (requested ${info.requested})` : '';
  const fallback = info.fallbackReason ? `; fallback because ${info.fallbackReason}` : '';
  const onKernels = kernelsInUse(info);
  const kernel = onKernels.length > 0 ? `, Model Lab wasm kernels for ${onKernels.join(', ')}` : '';
  return `${info.name}${requested}, TensorFlow.js ${info.version}${kernel}${fallback}`;
}

export class EngineHost implements vscode.Disposable {
  private engine?: Engine;
  private settings?: EngineSettings;
  private backend?: Promise<BackendInfo>;
  private readonly activeJobs = new Set<TrainingJob>();
  private recreatePending = false;
  private readonly backendChanged = new vscode.EventEmitter<BackendInfo | undefined>();
  /** Fires with the backend once a new engine's first worker is ready (undefined: engine gone). */
  readonly onDidChangeBackend = this.backendChanged.event;

  constructor(
    private readonly extensionPath: string,
    private readonly log: Log,
  ) {}

  /** The engine, created on first use. Throws SettingsError, or an Error when the worker script is missing. */
  get(): Engine {
    if (this.engine) return this.engine;
    const settings = currentSettings();
    this.engine = new Engine(engineOptionsFrom(settings, this.extensionPath, this.log));
    this.settings = settings;
    this.backend = undefined;
    this.log(
      'info',
      `Training engine started: backend setting "${settings.backend}", ${settings.workers} worker${settings.workers === 1 ? '' : 's'}` +
        (settings.tfjsNodePath ? `, tfjs-node looked up in ${settings.tfjsNodePath}` : ''),
    );
    return this.engine;
  }

  /** The backend the workers use (starts the first worker if needed). */
  backendInfo(): Promise<BackendInfo> {
    const engine = this.get();
    if (!this.backend) {
      const pending = engine.backendInfo();
      this.backend = pending;
      pending.then(
        (info) => {
          if (this.engine !== engine) return;
          this.log(info.fallbackReason ? 'warn' : 'info', `Backend: ${describeBackend(info)}`);
          this.backendChanged.fire(info);
        },
        (error: unknown) => {
          if (this.backend === pending) this.backend = undefined; // let the next request try again
          this.log('error', `The training worker could not start: ${errorMessage(error)}`);
        },
      );
    }
    return this.backend;
  }

  startTraining(runDir: string, resume: boolean): TrainingJob {
    const job = this.get().startTraining(runDir, resume);
    this.activeJobs.add(job);
    void job.done.then(() => {
      this.activeJobs.delete(job);
      if (this.recreatePending && this.activeJobs.size === 0) void this.retire('settings changed while training');
    });
    return job;
  }

  /** The weight names and shapes of the model `spec` builds (a worker builds it): the launch checks `init` with them. */
  weightLayout(spec: ResolvedSpec): Promise<WeightShape[]> {
    return this.get().weightLayout(spec);
  }

  /** Refused in Restricted Mode: a run folder that came with the workspace is untrusted input. */
  openSession(runDir: string, step?: number): Promise<SessionClient> {
    if (!vscode.workspace.isTrusted) return Promise.reject(new Error(`Restricted Mode: ${SESSIONS_NEED_TRUST}`));
    return this.get().openSession(runDir, step);
  }

  /** Expands and validates a sweep file (its `text`, already read) in a short-lived thread (a large grid never blocks the host). */
  expandSweep(specFile: string, text: string): Promise<LoadedSweep> {
    return expandSweepOffThread(specFile, path.join(this.extensionPath, 'dist', 'sweepExpansion.js'), text);
  }

  isIdle(): boolean {
    return this.activeJobs.size === 0;
  }

  /** Call when `modelLab.*` settings changed: the next request uses a new engine. */
  settingsChanged(): void {
    if (!this.engine || !this.settings) return;
    const next = readEngineSettings(vscode.workspace.getConfiguration(SETTINGS_SECTION));
    if (next.ok && sameEngineSettings(next.value, this.settings)) return;
    if (this.isIdle()) {
      void this.retire('settings changed');
    } else {
      this.recreatePending = true;
      this.log('info', 'Engine settings changed; they apply once the running training jobs have finished.');
    }
  }

  async dispose(): Promise<void> {
    this.backendChanged.dispose();
    await this.retire('VS Code is closing or Model Lab was deactivated');
  }

  private async retire(reason: string): Promise<void> {
    const engine = this.engine;
    this.engine = undefined;
    this.settings = undefined;
    this.backend = undefined;
    this.recreatePending = false;
    if (!engine) return;
    this.log('info', `Stopping the training engine (${reason}).`);
    try {
      this.backendChanged.fire(undefined);
    } catch {
      // already disposed during deactivation
    }
    await engine.dispose();
  }
}

function currentSettings(): EngineSettings {
  const result = readEngineSettings(vscode.workspace.getConfiguration(SETTINGS_SECTION));
  if (!result.ok) throw new SettingsError(result.problems);
  return result.value;
}
