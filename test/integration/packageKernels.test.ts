// `npm run package` refuses to build a VSIX without Model Lab's seven wasm kernels in dist/
// (it would train several times slower and say nothing), unless given --allow-slow. Checked on a
// copy of the packaging scripts in a temp folder, so no VSIX is built and the real dist/ is untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const KERNELS = ['batched-matmul', 'strided-conv', 'masked-attention', 'layer-norm', 'dense', 'copy', 'adam'];

/** Runs scripts/package.mjs in a temp project whose dist/ holds the `present` kernels. */
function packageWith(present: string[], args: string[] = []) {
  const project = mkdtempSync(join(tmpdir(), 'model-lab-package-'));
  try {
    mkdirSync(join(project, 'scripts'));
    for (const script of ['package.mjs', 'kernels.mjs', 'readmeImages.mjs']) copyFileSync(join(root, 'scripts', script), join(project, 'scripts', script));
    // The kernel table the scripts read (src/core/kernels/kernels.json).
    mkdirSync(join(project, 'src/core/kernels'), { recursive: true });
    copyFileSync(join(root, 'src/core/kernels/kernels.json'), join(project, 'src/core/kernels/kernels.json'));
    mkdirSync(join(project, 'dist'));
    writeFileSync(join(project, 'README.md'), '# Model Lab\n'); // the packager inlines its images
    for (const name of present) writeFileSync(join(project, 'dist', `${name}.wasm`), '');
    return spawnSync(process.execPath, [join(project, 'scripts', 'package.mjs'), ...args], { cwd: project, encoding: 'utf8' });
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
}

test('package refuses without all seven kernels in dist/, names the missing ones and says how to fix it', () => {
  const result = packageWith(KERNELS.filter((name) => name !== 'dense' && name !== 'adam'));
  assert.equal(result.status, 1);
  assert.match(result.stderr, /refusing to build a VSIX with 2 of Model Lab's 7 wasm kernels missing from dist\/ \(dense\.wasm, adam\.wasm\)/);
  assert.match(result.stderr, /npm run build/);
  assert.match(result.stderr, /npm run package -- --allow-slow/);
  assert.doesNotMatch(result.stderr, /vsce/);
});

test('package goes on to vsce with --allow-slow, saying what is missing, and without a word when all seven are there', () => {
  const slow = packageWith([], ['--allow-slow']);
  assert.doesNotMatch(slow.stderr, /refusing/);
  assert.match(slow.stderr, /--allow-slow: packaging with 7 of Model Lab's 7 wasm kernels missing/);
  // The temp project has no vsce: getting as far as trying to run it is the point.
  assert.match(slow.stderr, /vsce/);

  const complete = packageWith(KERNELS);
  assert.doesNotMatch(complete.stderr, /refusing|allow-slow/);
  assert.match(complete.stderr, /vsce/);
});

test('package rejects an argument it does not know', () => {
  const result = packageWith(KERNELS, ['--alow-slow']);
  assert.equal(result.status, 2);
  assert.match(result.stderr, /unknown argument --alow-slow/);
});
