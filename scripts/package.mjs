// `npm run package` (after `npm run build`): dist-vsix/model-lab.vsix from dist/. Refuses when
// Model Lab's wasm kernels are missing from dist/: such a VSIX trains several times slower and
// nothing in it says so. `npm run package -- --allow-slow` packages it anyway.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KERNELS, missingKernels } from './kernels.mjs';
import { inlineReadmeImages } from './readmeImages.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const unknown = args.filter((arg) => arg !== '--allow-slow');
if (unknown.length > 0) {
  console.error(`package: unknown argument ${unknown.join(' ')} (usage: npm run package [-- --allow-slow])`);
  process.exit(2);
}

const missing = missingKernels(join(root, 'dist'));
if (missing.length > 0) {
  const what = `${missing.length} of Model Lab's ${KERNELS.length} wasm kernels missing from dist/ (${missing.join(', ')}): training would fall back to tfjs's slower ops`;
  if (!args.includes('--allow-slow')) {
    console.error(`package: refusing to build a VSIX with ${what}.`);
    console.error('  fix: npm run build puts them there (from src/kernels/prebuilt; if that folder is incomplete, git checkout it or run npm run kernels:update with clang-14 and lld-14)');
    console.error('  or package the slow VSIX anyway: npm run package -- --allow-slow');
    process.exit(1);
  }
  console.error(`package: --allow-slow: packaging with ${what}`);
}

mkdirSync(join(root, 'dist-vsix'), { recursive: true }); // vsce does not create its -o folder
const vsce = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
// The README's screenshots (media/readme/*, relative links, as GitHub shows them) go into the
// VSIX's README as data URIs: VS Code shows an installed extension's README in a webview that
// resolves a relative image against itself (nothing loads), and vsce would need an absolute URL
// to prefix them with (a repository in package.json, or --baseImagesUrl) that an extension
// installed from this file has no use for. Its CSP allows data: images.
const readme = join(root, 'dist', 'readme.md');
writeFileSync(readme, inlineReadmeImages(readFileSync(join(root, 'README.md'), 'utf8'), root));
const packaged = spawnSync(
  process.execPath,
  [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--readme-path', 'dist/readme.md', '--no-rewrite-relative-links', '-o', 'dist-vsix/model-lab.vsix'],
  { cwd: root, stdio: 'inherit' },
);
process.exit(packaged.status ?? 1);
