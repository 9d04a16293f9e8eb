// The line a lab panel shows on whether its run has learned yet (src/core/learnedNote.ts), and
// the templates' `recommendedSteps` it quotes (a documented spec field, kept in the resolved spec).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { lastValues, learnedNote } from '../../src/core/learnedNote';
import { parseSpec } from '../../src/core/spec/validate';
import { listTemplates } from '../../src/core/spec/templates';

const templatesDir = join(__dirname, '..', '..', 'templates');
const template = (name: string) => readFileSync(join(templatesDir, `${name}.lab.json`), 'utf8');
const record = (step: number, values: Record<string, number>) => ({ step, time: step, values });

test('lastValues: the last logged value of each metric, also of one not logged since', () => {
  const last = lastValues([record(10, { 'train/loss': 2, 'eval/train/l1': 0.7 }), record(20, { 'train/loss': 1 })]);
  assert.deepEqual(last, { 'train/loss': 1, 'eval/train/l1': 0.7 });
});

test('learnedNote: a run that has not learned says so, with its template\'s recommended steps and its own', () => {
  const spec = JSON.parse(template('retrieval-compositional')) as Record<string, unknown>;
  spec.training = { ...(spec.training as object), steps: 300 };
  const note = learnedNote(spec, [record(300, { 'eval/train/l1': 0.731 })]);
  assert.equal(note?.verdict, 'not-yet');
  assert.match(note.text, /^Not learned yet: eval\/train\/l1 0\.731 > 0\.5 .*Its template recommends 10000 steps; this run trains 300\.$/);

  const learned = learnedNote(spec, [record(300, { 'eval/train/l1': 0.731 }), record(400, { 'eval/train/l1': 0.31 })]);
  assert.deepEqual(learned, { verdict: 'learned', text: 'Learned: eval/train/l1 0.310 <= 0.5 (predicting 0 scores about 0.75).' });
});

test('learnedNote: without recommendedSteps it says no budget is known; nothing when the rule cannot judge or no lab owns the spec', () => {
  const spec = JSON.parse(template('sampler-gmm25-tb-exploration')) as Record<string, unknown>;
  const note = learnedNote(spec, [record(250, { 'eval/train/modes-covered': 9, 'eval/train/modes-total': 25 })]);
  assert.equal(note?.verdict, 'not-yet');
  assert.match(note.text, /9 of 25 .*No measured budget of this experiment is known to learn it yet/);
  assert.equal(learnedNote(spec, [record(10, { 'train/loss': 3 })]), undefined, 'no modes logged yet: no line');
  assert.equal(learnedNote({ task: { name: 'nobody' }, model: { name: 'nothing' } }, []), undefined);
  assert.equal(learnedNote(undefined, []), undefined);
});

test('recommendedSteps: a documented template field, kept in the resolved spec; not a whole positive number is a located problem', () => {
  const withSteps = listTemplates(templatesDir).filter((t) => /"recommendedSteps"/.test(readFileSync(t.file, 'utf8')));
  assert.ok(withSteps.length >= 10, `templates with recommendedSteps: ${withSteps.map((t) => t.name).join(', ')}`);
  for (const { name, file } of withSteps) {
    const { spec, problems } = parseSpec(readFileSync(file, 'utf8'), file);
    assert.deepEqual(problems, [], name);
    assert.equal(typeof spec?.recommendedSteps, 'number', name);
    assert.ok(spec!.recommendedSteps! >= 1, name);
  }
  const bad = template('retrieval-mha').replace('"recommendedSteps": 20000', '"recommendedSteps": 0.5');
  const { problems } = parseSpec(bad, 'bad.lab.json');
  assert.equal(problems.length, 1);
  assert.equal(problems[0].path, '/recommendedSteps');
});
