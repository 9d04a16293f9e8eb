// What goes into the VSIX is an allow-list (package.json "files"): the bundles, the wasm files,
// the webview assets, media and templates; never sources, docs, maps or a stray folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const ALLOWED = [
  /^(LICENSE|README\.md|package\.json)$/,
  /^dist\/[a-zA-Z-]+\.(js|wasm)$/,
  /^dist\/experiment(\.editor)?\.schema\.json$/, // the schema, and VS Code's copy (completion and hover)
  /^dist\/webview\/[a-zA-Z.-]+\.(js|css|ttf)$/,
  /^media\/[a-zA-Z0-9/.-]+\.(svg|md|png)$/,
  /^templates\/[a-z0-9-]+\.lab\.json$/,
  // The example runs (scripts/example-runs.mjs): run files and one checkpoint each.
  /^example-runs\/\d{8}-\d{6}-example-[a-z]+\/(environment|run|spec|status)\.json$/,
  /^example-runs\/\d{8}-\d{6}-example-[a-z]+\/metrics\.jsonl$/,
  /^example-runs\/\d{8}-\d{6}-example-[a-z]+\/checkpoints\/step-\d{8}\/(checkpoint|weights|optimizer)\.(json|bin)$/,
];

/** The files `vsce package` would put in the VSIX, from the same allow-list (dist/ must be built). */
function packagedFiles(): string[] {
  const vsce = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
  return execFileSync(process.execPath, [vsce, 'ls', '--no-dependencies'], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}

test('the VSIX holds exactly the allow-listed files: bundles, every built wasm, webview assets, media, templates, example runs', () => {
  const files = packagedFiles();
  const stray = files.filter((file) => !ALLOWED.some((pattern) => pattern.test(file)));
  assert.deepEqual(stray, [], 'nothing outside the allow-list');
  assert.ok(!files.some((file) => file.startsWith('docs/') || file.endsWith('.map') || file.includes('threaded')));

  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const referenced = [
    manifest.main,
    manifest.bin['model-lab'],
    ...manifest.contributes.jsonValidation.map((v: { url: string }) => v.url),
    ...manifest.contributes.viewsContainers.activitybar.map((c: { icon: string }) => c.icon),
    ...manifest.contributes.walkthroughs.flatMap((w: { steps: { media: { markdown: string } }[] }) => w.steps.map((s) => s.media.markdown)),
    'dist/worker.js',
    'dist/gradientWorker.js',
    'dist/sweepExpansion.js',
  ].map((file: string) => file.replace(/^\.\//, ''));
  for (const file of referenced) assert.ok(files.includes(file), `${file} is referenced by the extension and must be packaged`);

  // Every wasm the build wrote (tfjs's and our kernels') and every template ships.
  for (const wasm of readdirSync(join(root, 'dist')).filter((f) => f.endsWith('.wasm'))) assert.ok(files.includes(`dist/${wasm}`), wasm);
  for (const template of readdirSync(join(root, 'templates'))) assert.ok(files.includes(`templates/${template}`), template);
  for (const run of readdirSync(join(root, 'example-runs'))) assert.ok(files.includes(`example-runs/${run}/run.json`), run);
  for (const page of ['attention', 'dashboard', 'live', 'posterior', 'similarity']) assert.ok(files.includes(`dist/webview/${page}.js`), page);
});
