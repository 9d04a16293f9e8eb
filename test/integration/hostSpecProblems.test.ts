import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseSpec } from '../../src/core/spec/validate';
import { problemMessage, problemRange, textLike, type PlainRange, type TextLike } from '../../src/host/specProblems';

/** A stand-in for vscode.TextDocument written independently of `textLike` (line splitting, not offsets). */
function fakeDocument(text: string): TextLike {
  const lines = text.split(/\r?\n/);
  const eol = text.includes('\r\n') ? 2 : 1;
  return {
    lineCount: lines.length,
    lineAt: (line) => ({ text: lines[line] }),
    positionAt(offset) {
      let remaining = offset;
      for (let line = 0; line < lines.length; line++) {
        if (remaining <= lines[line].length) return { line, character: remaining };
        remaining -= lines[line].length + eol;
      }
      const last = lines.length - 1;
      return { line: last, character: lines[last].length };
    },
  };
}

function textOf(text: string, range: PlainRange): string {
  const lines = text.split(/\r?\n/);
  if (range.start.line === range.end.line) return lines[range.start.line].slice(range.start.character, range.end.character);
  return [lines[range.start.line].slice(range.start.character), ...lines.slice(range.start.line + 1, range.end.line), lines[range.end.line].slice(0, range.end.character)].join('\n');
}

const broken = readFileSync(path.join(__dirname, '..', '..', 'examples', 'broken.lab.json'), 'utf8');

test('validator problems land on the offending value or key', () => {
  const { problems } = parseSpec(broken, 'broken.lab.json');
  assert.ok(problems.length >= 5, 'the broken example has several problems');
  const byPath = new Map(problems.map((problem) => [problem.path, problemRange(problem, fakeDocument(broken))]));
  const covered = (pointer: string) => {
    const range = byPath.get(pointer);
    assert.ok(range, `no problem reported at ${pointer}`);
    return textOf(broken, range);
  };
  assert.equal(covered('/training/steps'), '0');
  assert.equal(covered('/training/batchSize'), '"256"');
  assert.equal(covered('/task/split'), '"odd"');
  assert.match(covered('/training/evalEvry'), /evalEvry/);
});

test('textLike places offsets exactly like a text document, LF and CRLF', () => {
  for (const text of [broken, broken.replace(/\n/g, '\r\n'), 'one line only', '']) {
    const fake = fakeDocument(text);
    const ours = textLike(text);
    assert.equal(ours.lineCount, fake.lineCount);
    for (let offset = 0; offset <= text.length; offset += 7) {
      if (text[offset - 1] === '\r') continue; // inside a CRLF pair: documents disagree on purpose
      assert.deepEqual(ours.positionAt(offset), fake.positionAt(offset), `offset ${offset}`);
    }
    for (let line = 0; line < fake.lineCount; line++) assert.equal(ours.lineAt(line).text, fake.lineAt(line).text);
  }
});

test('problems with only line/column span the rest of that line', () => {
  const text = '{\n  "steps": 0\n}';
  const range = problemRange({ path: '/steps', message: 'bad', line: 2, column: 3 }, textLike(text));
  assert.deepEqual(range, { start: { line: 1, character: 2 }, end: { line: 1, character: 12 } });
  // Lines beyond the end are clamped to the last line rather than thrown away.
  const clamped = problemRange({ path: '', message: 'bad', line: 99, column: 1 }, textLike(text));
  assert.equal(clamped.start.line, 2);
});

test('unlocated problems (e.g. unreadable file) go on the first line', () => {
  const range = problemRange({ path: '', message: 'cannot read the experiment file' }, textLike('{"a": 1}\n'));
  assert.deepEqual(range, { start: { line: 0, character: 0 }, end: { line: 0, character: 8 } });
  assert.deepEqual(problemRange({ path: '', message: 'x' }, textLike('')), { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } });
});

test('messages start with the JSON pointer of the field', () => {
  assert.equal(problemMessage({ path: '/training/steps', message: 'must be >= 1' }), '/training/steps: must be >= 1');
  assert.equal(problemMessage({ path: '', message: 'the file is empty' }), 'the file is empty');
});
