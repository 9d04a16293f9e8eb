// User-facing panel texts say what to look for, never measured scores: the numbers a benchmark
// measured (a loss at some step, with some seed) live in bench/README.md, where they are dated and
// reproducible, as the template descriptions do (test/unit/templateGroups.test.ts). Checked on
// every string the panels' webviews and the labs' learned lines can show (comments are free).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';

const root = join(__dirname, '..', '..');

/** A measured score or its provenance: a seed, a step a run reached a value at, paired train / held-out values, the bench. */
const MEASURED = /\bseed \d|\bbench\b|bench\/|\breached\b|\b(after|in the first|at) \d[\d,]* steps\b|\d\.\d+ \/ \d\.\d+/i;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Every string literal and template literal of a file, with its line. */
function literals(file: string): { line: number; text: string }[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: { line: number; text: string }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) return;
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateExpression(node)) {
      found.push({ line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1, text: node.getText() });
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const userFacing = [
  ...sourceFiles(join(root, 'webview')),
  ...readdirSync(join(root, 'src', 'core'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(root, 'src', 'core', entry.name, 'manifest.ts'))
    .filter((file) => existsSync(file)),
  join(root, 'src', 'core', 'learnedNote.ts'),
];

test('the pattern catches a quoted benchmark result and lets a rule or a reference level through', () => {
  assert.match("compositional attention reached training / held-out L1 0.18 / 0.24 with seed 0", MEASURED);
  assert.match('neither model learns much in the first 4000 steps', MEASURED);
  assert.doesNotMatch('eval/train/l1 0.731 > 0.5 (predicting 0 scores about 0.75)', MEASURED);
  assert.doesNotMatch('Its template recommends 10000 steps; this run trains 300.', MEASURED);
});

test('panel texts and learned lines quote no measured scores (those live in bench/README.md)', () => {
  assert.ok(userFacing.some((file) => file.endsWith(join('retrieval', 'manifest.ts'))), 'the labs\' manifests are read');
  const quoted = userFacing.flatMap((file) =>
    literals(file).filter(({ text }) => MEASURED.test(text)).map(({ line, text }) => `${relative(root, file)}:${line}: ${text}`));
  assert.deepEqual(quoted, []);
});
