// One call gives a scenario a real VS Code with an extension installed, a fresh copy of a
// workspace, and Chromium on it; `close()` stops all of it and keeps logs with the screenshots.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import {
  copyWorkspace,
  createProfile,
  installExtension,
  removeProfile,
  startCodeServer,
  type CodeServer,
  type Profile,
} from './codeServer';
import { artifactsDir, modelLabVsix, repoRoot } from './paths';
import { launchBrowser, Workbench } from './workbench';

export interface SessionOptions {
  /** Folder name for this scenario's screenshots and logs under test-results/e2e/. */
  name: string;
  /** VSIX to install (none: a bare VS Code). */
  vsix?: string;
  /** Folder copied to a fresh temp workspace (default: the repo's examples/). */
  workspaceFrom?: string;
  /** Extra user settings. */
  settings?: Record<string, unknown>;
  /** Settings of the workspace folder (`.vscode/settings.json` in the temp workspace). */
  workspaceSettings?: Record<string, unknown>;
  /**
   * Open the workspace untrusted, in Restricted Mode (workspace trust on, no startup prompt).
   * Every other scenario runs with workspace trust off, as if every folder were trusted.
   */
  untrusted?: boolean;
}

export interface Session {
  workbench: Workbench;
  /** The temp workspace folder VS Code has open (a copy: scenarios may write to it freely). */
  workspace: string;
  server: CodeServer;
  profile: Profile;
  /** This scenario's artifacts folder. */
  artifacts: string;
  close(): Promise<void>;
}

/** Set MODEL_LAB_E2E_KEEP=1 to keep the temp profile and workspace for a look after the run. */
const keepTemp = process.env.MODEL_LAB_E2E_KEEP === '1';

export async function openSession(options: SessionOptions): Promise<Session> {
  const artifacts = join(artifactsDir, options.name);
  rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });
  const trustSettings = options.untrusted
    ? { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never', 'security.workspace.trust.emptyWindow': false }
    : {};
  const profile = createProfile({ ...trustSettings, ...options.settings });
  const workspace = copyWorkspace(options.workspaceFrom ?? join(repoRoot, 'examples'));
  if (options.workspaceSettings) {
    mkdirSync(join(workspace, '.vscode'), { recursive: true });
    writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify(options.workspaceSettings, null, 2));
  }
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  const close = async (): Promise<void> => {
    await browser?.close().catch(() => {});
    await server?.stop();
    // Extension host logs (the extension's output channels too) help explain a failure.
    const logs = join(profile.userDataDir, 'logs');
    if (existsSync(logs)) cpSync(logs, join(artifacts, 'vscode-logs'), { recursive: true });
    if (!keepTemp) {
      removeProfile(profile);
      rmSync(workspace, { recursive: true, force: true });
    }
  };
  try {
    if (options.vsix) installExtension(profile, options.vsix);
    server = await startCodeServer({ profile, logFile: join(artifacts, 'code-server.log'), workspaceTrust: options.untrusted });
    browser = await launchBrowser();
    const workbench = await Workbench.open(browser, server.folderUrl(workspace), artifacts);
    return { workbench, workspace, server, profile, artifacts, close };
  } catch (error) {
    await close();
    throw error;
  }
}

// ------------------------------------------------------------------ is the feature there yet?

interface Manifest {
  contributes?: {
    commands?: { command: string; title: string; category?: string }[];
    views?: Record<string, { id: string; name: string }[]>;
    viewsContainers?: Record<string, { id: string; title: string }[]>;
  };
}

function readManifest(): Manifest {
  return JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as Manifest;
}

/** Palette titles ("Category: Title") of the commands the repo's package.json contributes. */
export function contributedCommandTitles(): string[] {
  return (readManifest().contributes?.commands ?? []).map((c) => (c.category ? `${c.category}: ${c.title}` : c.title));
}

/** Names of contributed views and activity-bar containers. */
export function contributedViewNames(): string[] {
  const contributes = readManifest().contributes ?? {};
  const views = Object.values(contributes.views ?? {}).flat().map((v) => v.name);
  const containers = Object.values(contributes.viewsContainers ?? {}).flat().map((c) => c.title);
  return [...views, ...containers];
}

export interface Needs {
  commands?: string[];
  views?: string[];
  /** Paths relative to the repo root, e.g. examples/broken.lab.json */
  files?: string[];
}

/**
 * Why a Model Lab scenario cannot run yet (for `test(name, { skip })`), or undefined when the
 * extension has what it needs. The VSIX must exist too: scripts/e2e.mjs packages it first.
 */
export function missingFeature(needs: Needs): string | undefined {
  if (!existsSync(join(repoRoot, 'src', 'extension.ts'))) return 'not yet implemented: src/extension.ts';
  const commands = contributedCommandTitles();
  const missingCommands = (needs.commands ?? []).filter((title) => !commands.includes(title));
  if (missingCommands.length) return `not yet implemented: command ${missingCommands.map((t) => `"${t}"`).join(', ')}`;
  const views = contributedViewNames();
  const missingViews = (needs.views ?? []).filter((name) => !views.includes(name));
  if (missingViews.length) return `not yet implemented: view ${missingViews.map((v) => `"${v}"`).join(', ')}`;
  const missingFiles = (needs.files ?? []).filter((file) => !existsSync(join(repoRoot, file)));
  if (missingFiles.length) return `not yet present: ${missingFiles.join(', ')}`;
  if (!existsSync(modelLabVsix)) return `no VSIX at ${modelLabVsix} (run \`npm run package\` or scripts/e2e.mjs)`;
  return undefined;
}
