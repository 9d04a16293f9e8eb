#!/usr/bin/env node
// End-to-end tests in a real VS Code (code-server) driven through Chromium.
//   node scripts/e2e.mjs [--no-setup] [--no-package] [test/e2e/some.test.ts ...] [-- <node --test options>]
// 1. scripts/setup-e2e.sh (idempotent: Chromium, code-server into .cache/e2e)
// 2. npm run package -> dist-vsix/model-lab.vsix (skipped while src/extension.ts does not exist)
// 3. node --test on test/e2e/*.test.ts, one file at a time; the exit code is the tests'.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const startedAt = Date.now();
const elapsed = () => `${Math.round((Date.now() - startedAt) / 1000)}s`;
const say = (message) => console.log(`[e2e ${elapsed()}] ${message}`);

const dashDash = process.argv.indexOf('--');
const ownArgs = dashDash === -1 ? process.argv.slice(2) : process.argv.slice(2, dashDash);
const testRunnerArgs = dashDash === -1 ? [] : process.argv.slice(dashDash + 1);
const flags = new Set(ownArgs.filter((arg) => arg.startsWith('--')));
const unknown = [...flags].filter((flag) => !['--no-setup', '--no-package', '--help'].includes(flag));
if (flags.has('--help') || unknown.length) {
  console.log('usage: node scripts/e2e.mjs [--no-setup] [--no-package] [test files...] [-- node --test options]');
  process.exit(unknown.length ? 2 : 0);
}

/** Runs a step with inherited output; ends the whole run with a clear message when it fails. */
function step(description, command, args, options = {}) {
  say(description);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  if (result.error) {
    console.error(`[e2e] ERROR: ${description}: ${result.error.message}`);
    process.exit(1);
  }
  return result.status ?? 1;
}

if (!flags.has('--no-setup')) {
  const status = step('setup (scripts/setup-e2e.sh)', 'bash', [join(root, 'scripts', 'setup-e2e.sh')]);
  if (status !== 0) {
    console.error('[e2e] ERROR: setup failed; see the messages above');
    process.exit(1);
  }
}

if (flags.has('--no-package')) {
  say('--no-package: using the existing dist-vsix/model-lab.vsix, if any');
} else if (!existsSync(join(root, 'src', 'extension.ts'))) {
  say('src/extension.ts does not exist yet: not packaging; the Model Lab scenarios will skip');
} else {
  mkdirSync(join(root, 'dist-vsix'), { recursive: true }); // vsce does not create its -o folder
  const status = step('npm run package', 'npm', ['run', 'package']);
  if (status !== 0) {
    console.error('[e2e] ERROR: `npm run package` failed; the extension must build and package before it can be tested');
    process.exit(1);
  }
}

const e2eDir = join(root, 'test', 'e2e');
const requested = ownArgs.filter((arg) => !arg.startsWith('--'));
const testFiles = requested.length
  ? requested
  : readdirSync(e2eDir)
      .filter((name) => name.endsWith('.test.ts'))
      .sort()
      .map((name) => relative(root, join(e2eDir, name)));
if (testFiles.length === 0) {
  console.error(`[e2e] ERROR: no test files in ${e2eDir}`);
  process.exit(1);
}

const status = step(
  `scenarios: ${testFiles.join(' ')}`,
  process.execPath,
  [
    '--import', 'tsx',
    '--test',
    '--test-reporter=spec',
    // One real VS Code at a time: the machine has 2 cores.
    '--test-concurrency=1',
    ...testRunnerArgs,
    ...testFiles,
  ],
  // The whole suite is bounded, even if a scenario's own timeouts failed to fire.
  { timeout: 45 * 60_000, killSignal: 'SIGKILL' },
);
say(`finished with exit code ${status}; screenshots and logs in ${relative(root, join(root, 'test-results', 'e2e'))}/`);
process.exit(status);
