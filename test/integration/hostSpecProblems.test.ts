import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseSpec } from '../../src/core/spec/validate';
import type { SpecProblem } from '../../src/core/spec/types';
import { Debouncer, type Timers } from '../../src/host/editor/debouncer';
import {
  hasJsonSyntaxErrors,
  LIVE_CHECK_DELAY_MS,
  LIVE_CHECK_MAX_CHARS,
  LIVE_CHECK_MAX_SWEEP_MEMBERS,
  LiveSpecProblems,
  liveSpecProblems,
  trainProblems,
  type ProblemSink,
} from '../../src/host/editor/liveSpecProblems';
import { problemMessage, problemRange, textLike, type PlainRange, type TextLike } from '../../src/host/editor/specProblems';

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

// ---------------------------------------------------------------------------------------------
// Problems while typing (liveSpecProblems.ts): debounced, bounded, one entry per mistake.

/** Timers the test runs by hand: no waiting, no sleeps. */
function manualTimers() {
  let next = 0;
  const pending = new Map<number, { callback: () => void; ms: number }>();
  const timers: Timers = {
    set: (callback, ms) => {
      pending.set(++next, { callback, ms });
      return next;
    },
    clear: (handle) => pending.delete(handle as number),
  };
  const fire = () => {
    for (const [id, { callback }] of [...pending]) {
      pending.delete(id);
      callback();
    }
  };
  return { timers, pending, fire };
}

function labDocument(text: string, options: { file?: string; syntaxShownByEditor?: boolean } = {}) {
  const document = {
    key: `file://${options.file ?? '/w/broken.lab.json'}`,
    file: options.file ?? '/w/broken.lab.json',
    syntaxShownByEditor: options.syntaxShownByEditor ?? true,
    text,
    getText: () => document.text,
  };
  return document;
}

type TestDocument = ReturnType<typeof labDocument>;

/** A sink with the Problems panel's semantics: one list per document, `set` replaces it. */
function problemsPanel() {
  const lists = new Map<string, readonly SpecProblem[]>();
  const sink: ProblemSink<TestDocument> = {
    set: (document, problems) => lists.set(document.key, problems),
    delete: (document) => lists.delete(document.key),
  };
  return { sink, lists };
}

test('the debouncer runs a key once, after the last schedule, and forgets cancelled keys', () => {
  const { timers, pending, fire } = manualTimers();
  const debouncer = new Debouncer<string>(300, timers);
  const runs: string[] = [];
  for (const text of ['{', '{"a"', '{"a": 1}']) debouncer.schedule('a', () => runs.push(`a ${text}`));
  debouncer.schedule('b', () => runs.push('b'));
  assert.equal(pending.size, 2, 'one pending task per key');
  assert.deepEqual([...pending.values()].map((p) => p.ms), [300, 300]);
  debouncer.cancel('b');
  assert.equal(debouncer.isPending('b'), false);
  fire();
  assert.deepEqual(runs, ['a {"a": 1}']);
  assert.equal(debouncer.isPending('a'), false);
  debouncer.schedule('c', () => runs.push('c'));
  debouncer.dispose();
  assert.equal(pending.size, 0);
});

test('while typing: each mistake of the broken example once, after the pause, with the latest text', () => {
  const { timers, pending, fire } = manualTimers();
  const { sink, lists } = problemsPanel();
  const live = new LiveSpecProblems(sink, { timers });
  const document = labDocument('{');
  live.changed(document); // opened
  document.text = broken.slice(0, 100);
  live.changed(document); // typing
  document.text = broken;
  live.changed(document);
  assert.equal(lists.size, 0, 'nothing is checked before the pause');
  assert.equal(pending.size, 1, 'one check pending, not one per keystroke');
  assert.equal([...pending.values()][0].ms, LIVE_CHECK_DELAY_MS);
  fire();
  const listed = lists.get(document.key) ?? [];
  const expected = parseSpec(broken, document.file).problems;
  assert.equal(listed.length, expected.length);
  assert.equal(listed.length, 10, 'the broken example has 10 mistakes');
  assert.equal(new Set(listed.map((p) => `${p.path} ${p.offset}`)).size, listed.length, 'each mistake once');
  assert.deepEqual(listed.map(problemMessage), expected.map(problemMessage));
  assert.ok(listed.some((p) => /unknown objective 'l2'.*did you mean 'l1'/.test(p.message)), 'Model Lab wording');

  // Fixing a mistake replaces the list.
  document.text = broken.replace('"steps": 0', '"steps": 10');
  live.changed(document);
  fire();
  assert.equal(lists.get(document.key)?.length, 9);
  assert.ok(!lists.get(document.key)?.some((p) => p.path === '/training/steps'));
});

test('closing a document clears its problems and drops a pending check; Train drops a pending check', () => {
  const { timers, pending, fire } = manualTimers();
  const { sink, lists } = problemsPanel();
  const live = new LiveSpecProblems(sink, { timers });
  const document = labDocument(broken);
  live.changed(document);
  fire();
  assert.equal(lists.get(document.key)?.length, 10);
  live.changed(document);
  live.closed(document);
  assert.equal(pending.size, 0);
  assert.equal(lists.has(document.key), false);

  live.changed(document);
  live.trained(document.key);
  assert.equal(pending.size, 0, "Train's problems are not overwritten by a check of the same text");
  live.dispose();
});

test('syntax errors of a json document are left to VS Code (listed once), others are ours', () => {
  const trailingComma = '{\n  "formatVersion": 1,\n}';
  assert.equal(hasJsonSyntaxErrors(trailingComma), true);
  assert.deepEqual(liveSpecProblems(labDocument(trailingComma)), []);
  assert.deepEqual(trainProblems(parseSpec(trailingComma, 'x.lab.json').problems, labDocument(trailingComma)), []);
  // Where VS Code does not report them (a closed file, another language mode), Model Lab does.
  const ours = liveSpecProblems(labDocument(trailingComma, { syntaxShownByEditor: false })) ?? [];
  assert.match(ours[0]?.message ?? '', /JSON syntax error.*trailing commas/);
  assert.equal(trainProblems(parseSpec(trailingComma, 'x.lab.json').problems, undefined).length, ours.length);
  // An empty file: VS Code says nothing, so Model Lab does.
  assert.match(liveSpecProblems(labDocument(''))?.[0]?.message ?? '', /empty/);
  assert.equal(hasJsonSyntaxErrors(broken), false);
});

test('sweeps are checked while typing, within bounds; huge documents are left to Train', () => {
  const sweepFile = path.join(__dirname, '..', '..', 'templates', 'relational-sweep.lab.json');
  const sweep = readFileSync(sweepFile, 'utf8');
  assert.deepEqual(liveSpecProblems(labDocument(sweep, { file: sweepFile })), []);
  const badMember = sweep.replace('"grid": {', '"grid": {\n    "/training/steps": [0],');
  assert.ok(badMember !== sweep);
  const problems = liveSpecProblems(labDocument(badMember, { file: sweepFile })) ?? [];
  assert.ok(problems.length > 0 && problems.every((p) => p.offset !== undefined), JSON.stringify(problems));

  const seeds = (count: number) => {
    const parsed = JSON.parse(sweep);
    parsed.grid = { '/seed': Array.from({ length: count }, (_, i) => i) };
    parsed.exclude = [];
    return labDocument(JSON.stringify(parsed, null, 2), { file: sweepFile });
  };
  assert.deepEqual(liveSpecProblems(seeds(LIVE_CHECK_MAX_SWEEP_MEMBERS)), [], 'checked up to the member cap');
  assert.equal(liveSpecProblems(seeds(LIVE_CHECK_MAX_SWEEP_MEMBERS + 1)), undefined, 'too many members to check while typing');

  const huge = broken.replace('"Deliberately', `"${'x'.repeat(LIVE_CHECK_MAX_CHARS)} Deliberately`);
  assert.equal(liveSpecProblems(labDocument(huge)), undefined);
  const { timers, fire } = manualTimers();
  const { sink, lists } = problemsPanel();
  const live = new LiveSpecProblems(sink, { timers });
  const document = labDocument(broken);
  live.changed(document);
  fire();
  document.text = huge;
  live.changed(document);
  fire();
  assert.equal(lists.has(document.key), false, 'stale problems are cleared, not kept');
});
