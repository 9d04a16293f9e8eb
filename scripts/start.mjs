#!/usr/bin/env node
// Try the extension in a real VS Code in your browser:
//   npm start [-- --fresh] [-- --no-package]      (PORT=8080 by default)
// Packages the VSIX, installs it into a fresh extensions dir, and serves code-server on
// 127.0.0.1 with a copy of examples/ as the workspace, until Ctrl-C.
// The workspace copy and the VS Code profile live in <cache>/start/ (default .cache/e2e/start)
// and survive restarts, so runs and window state stay; --fresh starts both over from examples/.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/cjs/api';

// Lets this script require the e2e harness's TypeScript modules (CommonJS, like the package).
register();
const require = createRequire(import.meta.url);
const { defaultSettings, installExtension, startCodeServer } = require('../test/e2e/codeServer.ts');
const { e2eCacheDir, modelLabVsix } = require('../test/e2e/paths.ts');

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const port = Number(process.env.PORT ?? 8080);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error(`[start] ERROR: PORT must be a port number, got "${process.env.PORT}"`);
  process.exit(2);
}

function run(description, command, commandArgs) {
  console.log(`[start] ${description}`);
  const result = spawnSync(command, commandArgs, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`[start] ERROR: ${description} failed`);
    process.exit(1);
  }
}

if (!args.has('--no-setup')) run('setup (scripts/setup-e2e.sh)', 'bash', [join(root, 'scripts', 'setup-e2e.sh')]);
if (!args.has('--no-package')) {
  if (!existsSync(join(root, 'src', 'extension.ts'))) {
    console.error('[start] ERROR: src/extension.ts does not exist yet: there is no extension to try');
    process.exit(1);
  }
  mkdirSync(join(root, 'dist-vsix'), { recursive: true }); // vsce does not create its -o folder
  run('npm run package', 'npm', ['run', 'package']);
}
if (!existsSync(modelLabVsix)) {
  console.error(`[start] ERROR: no VSIX at ${modelLabVsix}; run without --no-package`);
  process.exit(1);
}

const home = join(e2eCacheDir, 'start');
const workspace = join(home, 'workspace');
const profile = {
  root: home,
  userDataDir: join(home, 'user-data'),
  extensionsDir: join(home, 'extensions'),
  configFile: join(home, 'code-server.yaml'),
};
if (args.has('--fresh')) {
  rmSync(workspace, { recursive: true, force: true });
  rmSync(profile.userDataDir, { recursive: true, force: true });
}
if (!existsSync(workspace)) {
  cpSync(join(root, 'examples'), workspace, { recursive: true });
  console.log(`[start] workspace: copied examples/ to ${workspace}`);
}
// The extension is always the one just packaged.
rmSync(profile.extensionsDir, { recursive: true, force: true });
mkdirSync(profile.extensionsDir, { recursive: true });
const settingsFile = join(profile.userDataDir, 'User', 'settings.json');
if (!existsSync(settingsFile)) {
  mkdirSync(dirname(settingsFile), { recursive: true });
  writeFileSync(settingsFile, JSON.stringify(defaultSettings, null, 2));
}

console.log(`[start] installing ${modelLabVsix}`);
installExtension(profile, modelLabVsix);
const logFile = join(home, 'code-server.log');
let server;
try {
  server = await startCodeServer({ profile, port, logFile });
} catch (error) {
  console.error(`[start] ERROR: ${error.message} (is port ${port} in use? try PORT=8081 npm start)`);
  process.exit(1);
}

console.log(`
  Model Lab is running in VS Code at

    ${server.folderUrl(workspace)}

  workspace: ${workspace}
  log:       ${logFile}
  Press Ctrl-C to stop.
`);

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  console.log('\n[start] stopping code-server');
  await server.stop();
  process.exit(0);
}
server.exited.then((message) => {
  if (stopping) return;
  console.error(`[start] ERROR: ${message}`);
  process.exit(1);
});
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
// Keep running until a signal arrives.
setInterval(() => {}, 1 << 30);
