// A throwaway extension that proves the harness on its own, independent of Model Lab:
// one palette command that opens a webview showing "hello", packaged with the repo's vsce.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './paths';

export const smokeCommandTitle = 'Model Lab Smoke: Hello';
export const smokePanelTitle = 'Smoke Hello';
export const smokeText = 'hello';

const manifest = {
  name: 'model-lab-smoke',
  displayName: 'Model Lab Smoke',
  description: 'Throwaway extension used to check the end-to-end harness.',
  version: '0.0.1',
  publisher: 'model-lab-e2e',
  license: 'MIT',
  engines: { vscode: '^1.90.0' },
  main: './extension.js',
  activationEvents: [],
  contributes: {
    commands: [{ command: 'modelLabSmoke.hello', title: 'Hello', category: 'Model Lab Smoke' }],
  },
};

// The webview also shows which thread answered, so the test sees the host really ran code.
const extensionSource = `
const vscode = require('vscode');
exports.activate = function (context) {
  context.subscriptions.push(vscode.commands.registerCommand('modelLabSmoke.hello', () => {
    const panel = vscode.window.createWebviewPanel('modelLabSmoke', ${JSON.stringify(smokePanelTitle)},
      vscode.ViewColumn.One, { enableScripts: false });
    panel.webview.html = '<!DOCTYPE html><html><head><meta charset="utf-8">' +
      '<meta http-equiv="Content-Security-Policy" content="default-src \\'none\\'; style-src ' +
      panel.webview.cspSource + ' \\'unsafe-inline\\';"></head>' +
      '<body><h1 data-testid="greeting">${smokeText}</h1>' +
      '<p data-testid="host-pid">' + process.pid + '</p></body></html>';
  }));
};
exports.deactivate = function () {};
`;

/** Writes the extension to a temp dir, packages it, and returns the VSIX path. */
export function buildSmokeVsix(parentDir = tmpdir()): string {
  const dir = mkdtempSync(join(parentDir, 'model-lab-smoke-ext-'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(join(dir, 'extension.js'), extensionSource);
  writeFileSync(join(dir, 'LICENSE'), 'MIT License\n\nThrowaway test fixture.\n');
  writeFileSync(join(dir, 'README.md'), '# Model Lab Smoke\n\nThrowaway extension for the e2e harness.\n');
  const vsix = join(dir, 'smoke.vsix');
  // The repo's own vsce: `npx vsce` in a folder without node_modules would go to the registry.
  const vsce = join(repoRoot, 'node_modules', '@vscode', 'vsce', 'vsce');
  const result = spawnSync(
    process.execPath,
    [vsce, 'package', '--allow-missing-repository', '--no-dependencies', '-o', vsix],
    { cwd: dir, encoding: 'utf8', timeout: 120_000 },
  );
  if (result.status !== 0 || !existsSync(vsix)) {
    throw new Error(`vsce package failed (exit ${result.status ?? result.signal}):\n${result.stdout}${result.stderr}`);
  }
  return vsix;
}
