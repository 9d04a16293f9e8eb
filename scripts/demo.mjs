// `npm run demo`: package the VSIX, train the default experiment headless with a short budget
// through the real CLI bundle (same engine and worker as the extension), and say where both are.
import { execFileSync, spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const steps = process.env.MODEL_LAB_DEMO_STEPS ?? '200';

execFileSync(npm, ['run', 'package'], { cwd: root, stdio: 'inherit' });
const vsix = join(root, 'dist-vsix', 'model-lab.vsix');

const spec = join(root, 'examples', 'retrieval-mha-quick.lab.json');
console.error(`\ntraining ${relative(root, spec)} for ${steps} steps (headless)...`);
const train = spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), 'train', spec, '--steps', steps], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
  encoding: 'utf8',
});
if (train.status !== 0) process.exit(train.status ?? 1);
const runDir = train.stdout.trim().split('\n').pop();
// The kernels the run trained with, as `model-lab show` reads them from its environment.json.
const shown = execFileSync(process.execPath, [join(root, 'dist', 'cli.js'), 'show', runDir], { cwd: root, encoding: 'utf8' });
const backend = shown.split('\n').find((line) => line.startsWith('backend ')) ?? 'backend    not shown';

console.log(`\nVSIX: ${vsix} (${(statSync(vsix).size / 1e6).toFixed(1)} MB)`);
console.log(`  install: code --install-extension ${relative(root, vsix)}`);
console.log(`Run:  ${runDir}`);
console.log(`  ${backend.replace(/^backend\s+/, 'backend: ')}`);
console.log(`  inspect: npx model-lab show ${relative(root, runDir)}`);
