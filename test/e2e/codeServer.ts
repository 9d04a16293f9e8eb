// Starts and stops a real VS Code (code-server) on 127.0.0.1 with a throwaway profile.
// Everything it writes goes to a temp dir; its process group is killed on stop and on exit.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codeServerEntry } from './paths';
import { waitFor } from './waitFor';

export interface Profile {
  /** Root of everything this profile owns; removed by `removeProfile`. */
  root: string;
  userDataDir: string;
  extensionsDir: string;
  /** code-server's own config file (kept out of ~/.config). */
  configFile: string;
}

/** User settings every session starts with: no trust prompt, no welcome page. */
export const defaultSettings: Record<string, unknown> = {
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'window.restoreWindows': 'all',
};

export function createProfile(settings: Record<string, unknown> = {}, parentDir = tmpdir()): Profile {
  const root = mkdtempSync(join(parentDir, 'model-lab-e2e-'));
  const userDataDir = join(root, 'user-data');
  const extensionsDir = join(root, 'extensions');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  writeFileSync(
    join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({ ...defaultSettings, ...settings }, null, 2),
  );
  // The same settings as the remote machine's: code-server's window is a remote one, where VS Code
  // may drop machine-scoped settings (modelLab.workers is machine-overridable) from the User file
  // once the extension's schema is known; a run then saw 1 worker instead of the scenario's 2.
  mkdirSync(join(userDataDir, 'Machine'), { recursive: true });
  writeFileSync(join(userDataDir, 'Machine', 'settings.json'), JSON.stringify(settings, null, 2));
  return { root, userDataDir, extensionsDir, configFile: join(root, 'code-server.yaml') };
}

export function removeProfile(profile: Profile): void {
  rmSync(profile.root, { recursive: true, force: true });
}

/** Copies a folder (e.g. the repo's examples/) to a fresh temp workspace. */
export function copyWorkspace(from: string, parentDir = tmpdir()): string {
  const workspace = mkdtempSync(join(parentDir, 'model-lab-ws-'));
  cpSync(from, workspace, { recursive: true });
  return workspace;
}

/** `code-server --install-extension <vsix>` into the profile's extensions dir. */
export function installExtension(profile: Profile, vsix: string): void {
  const result = spawnSync(
    process.execPath,
    [
      codeServerEntry(),
      '--config', profile.configFile,
      '--user-data-dir', profile.userDataDir,
      '--extensions-dir', profile.extensionsDir,
      '--install-extension', vsix,
      '--force',
    ],
    { encoding: 'utf8', timeout: 120_000 },
  );
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.status !== 0 || !/successfully installed/i.test(output)) {
    throw new Error(`installing ${vsix} failed (exit ${result.status ?? result.signal}):\n${output}`);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export interface CodeServer {
  port: number;
  /** Base URL without a folder, e.g. http://127.0.0.1:PORT/ */
  url: string;
  /** URL that opens `folder` as the workspace. */
  folderUrl(folder: string): string;
  /** code-server's stdout+stderr go here. */
  logFile: string;
  /** Resolves with a description when code-server exits, whoever ended it. */
  exited: Promise<string>;
  stop(): Promise<void>;
}

const liveGroups = new Set<number>();
process.once('exit', () => {
  // Last resort when a test crashes: no code-server outlives the test process.
  for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
});

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

export interface StartOptions {
  profile: Profile;
  port?: number;
  /** Where code-server's output is written. */
  logFile: string;
  /** Extra environment for code-server and so for the extension host. */
  env?: Record<string, string>;
  /** Keep VS Code's workspace trust on (every other scenario runs with it off). */
  workspaceTrust?: boolean;
  startTimeoutMs?: number;
}

export async function startCodeServer(options: StartOptions): Promise<CodeServer> {
  const port = options.port ?? (await freePort());
  const log = createWriteStream(options.logFile);
  const child: ChildProcess = spawn(
    process.execPath,
    [
      codeServerEntry(),
      '--config', options.profile.configFile,
      '--bind-addr', `127.0.0.1:${port}`,
      '--auth', 'none',
      '--disable-telemetry',
      '--disable-update-check',
      ...(options.workspaceTrust ? [] : ['--disable-workspace-trust']),
      '--disable-getting-started-override',
      '--ignore-last-opened',
      '--user-data-dir', options.profile.userDataDir,
      '--extensions-dir', options.profile.extensionsDir,
    ],
    {
      detached: true, // own process group: stop() kills code-server, its extension host and workers
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error('code-server did not start (no pid)');
  liveGroups.add(pid);
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  let exited: string | undefined;
  const exitedPromise = new Promise<string>((resolveExit) => {
    child.once('exit', (code, signal) => {
      exited = `code-server exited (${code ?? signal}); see ${options.logFile}`;
      resolveExit(exited);
    });
  });

  const url = `http://127.0.0.1:${port}/`;
  const stop = async (): Promise<void> => {
    if (!liveGroups.has(pid)) return;
    killGroup(pid, 'SIGTERM');
    const gone = await waitFor(() => exited !== undefined, { timeoutMs: 5_000, what: 'code-server to exit' })
      .then(() => true, () => false);
    if (!gone) killGroup(pid, 'SIGKILL');
    killGroup(pid, 'SIGKILL'); // the extension host may linger in the group after code-server exits
    liveGroups.delete(pid);
    log.end();
  };

  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(exited);
        const response = await fetch(`${url}healthz`).catch(() => undefined);
        return response?.ok === true;
      },
      { timeoutMs: options.startTimeoutMs ?? 60_000, intervalMs: 250, what: `code-server on port ${port}` },
    );
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    port,
    url,
    folderUrl: (folder) => `${url}?folder=${encodeURIComponent(folder)}`,
    logFile: options.logFile,
    exited: exitedPromise,
    stop,
  };
}
