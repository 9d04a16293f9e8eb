// Every docs or research path that the code, scripts, benchmarks and tests cite must exist in the
// repository: a comment that sends a reader to a note we do not ship is a dead end (issue 20).
// The whole text of each file is scanned, not only its comments: a fixture's description or a
// Python docstring cites notes the same way, and a path in code must exist too.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';

const root = join(__dirname, '..', '..');
const scannedFolders = ['src', 'webview', 'scripts', 'bench', 'test'];
const textFile = /\.(ts|mts|js|mjs|cjs|c|h|py|json|md|html|css|sh)$/;
const skippedFolders = new Set(['node_modules', 'prebuilt', 'dist']);

/** A path starting with docs/ or research/, not inside a longer path or URL; every segment starts with a name character. */
const citedPath = /(?<![\w/.@-])(?:docs|research)(?:\/[\w-][\w.-]*)+/g;

function filesUnder(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return skippedFolders.has(entry.name) ? [] : filesUnder(path);
    return entry.isFile() && textFile.test(entry.name) ? [path] : [];
  });
}

/** Each cited path in `text` with its 1-based line number; a sentence's closing period is not part of the path. */
export function citedPaths(text: string): { path: string; line: number }[] {
  return [...text.matchAll(citedPath)].map((match) => ({
    path: match[0].replace(/\.+$/, ''),
    line: text.slice(0, match.index).split('\n').length,
  }));
}

test('the path finder sees cited notes and ignores URLs and bare folder names', () => {
  const sample = [
    ' * Mittal et al. 2022, see research/some-note.md, "A section".',
    '// (docs/some-guide.md.) and https://example.org/docs/page and a/docs/b',
    "  file.startsWith('docs/') || sibling('../docs/x.md')",
  ].join('\n');
  assert.deepEqual(citedPaths(sample), [
    { path: 'research/some-note.md', line: 1 },
    { path: 'docs/some-guide.md', line: 2 },
  ]);
});

test('every docs/ or research/ path cited in src, webview, scripts, bench and test exists', () => {
  const dangling: string[] = [];
  let cited = 0;
  // This file's own examples are made up on purpose.
  const files = scannedFolders.flatMap((folder) => filesUnder(join(root, folder))).filter((file) => file !== __filename);
  for (const file of files) {
    for (const { path, line } of citedPaths(readFileSync(file, 'utf8'))) {
      cited += 1;
      if (!existsSync(join(root, path))) dangling.push(`${relative(root, file)}:${line} cites ${path}, which is not in the repository`);
    }
  }
  assert.ok(cited > 0, 'the scan found no cited path at all: the folders or the pattern are wrong');
  assert.deepEqual(dangling, []);
});
