/**
 * Fuzz target: experiment files. Each case is a template of `templates/` (train experiments and
 * the sweep) with one field changed, guided by the JSON schema the build writes
 * (`dist/experiment.schema.json`): a value replaced by a hostile one (hostileJson.ts), a field
 * removed, a key added (a missing option with a bad value, a typo, `__proto__`, a huge name), a key
 * given twice, or the file cut short. The file goes through the validator as the CLI and VS Code
 * use it (`loadSpecFile` / `loadSweepFile`).
 *
 * Valid result: a resolved spec (or sweep members) whose numbers are finite and whose integer
 * fields are safe integers (2^53 and above would break the run folder later). Otherwise a
 * SpecError naming the file, each problem with its JSON pointer.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { SpecError } from '../../src/core/spec/types';
import { isSweepText, loadSpecFile, loadSweepFile } from '../../src/core/spec/validate';
import { childSchema, hostileText, hostileValue, knownKeys, logSize, pointerOf, slotsOf, spliceRaw, type Hostile, type Schema, type Slot } from './hostileJson';
import { assertLocatedError, fail } from './outcomes';
import type { FuzzTarget, SetupContext } from './target';

interface Template {
  file: string;
  document: Record<string, unknown>;
  isSweep: boolean;
  slots: Slot[];
  /** The root and every object inside it, where a key can be added. */
  objects: Slot[];
}

interface State {
  schema: Schema;
  templates: Template[];
  caseFile: string;
}

type KeyChoice = 'missing-option' | 'typo' | 'unknown' | '__proto__' | 'constructor' | 'empty' | 'pointer-characters' | 'long';

type Change =
  | { op: 'replace'; slot: number; hostile: Hostile }
  | { op: 'remove'; slot: number }
  | { op: 'add-key'; object: number; key: KeyChoice; pick: number; keyLength: number; hostile: Hostile }
  | { op: 'duplicate-key'; slot: number }
  | { op: 'truncate'; fraction: number };

interface Case {
  template: number;
  change: Change;
}

/**
 * Sizes of the hostile values: a 200,000-deep spec (the issue's 100,000), a 1 MB string (past the
 * 60 characters a message may echo), a 100,000-item array (a grid list past 5000 members), 5000
 * unknown keys (past the 20 problems a message lists). Larger ones only cost time: a sweep checks
 * its base once per member, so a 20,000-key base in the 58-member template takes about a second.
 */
const LIMITS = { depth: 200_000, string: 1_000_000, array: 100_000, keys: 5_000 };

function setup(context: SetupContext): State {
  const schema = JSON.parse(fs.readFileSync(path.join(context.root, 'dist', 'experiment.schema.json'), 'utf8')) as Schema;
  const templatesDir = path.join(context.root, 'templates');
  const templates = fs
    .readdirSync(templatesDir)
    .filter((name) => name.endsWith('.lab.json'))
    .sort()
    .map((name): Template => {
      const file = path.join(templatesDir, name);
      const document = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
      const slots = slotsOf(document, schema);
      const root: Slot = { path: [], value: document, schema };
      const objects = [root, ...slots.filter((s) => typeof s.value === 'object' && s.value !== null && !Array.isArray(s.value))];
      return { file, document, isSweep: document.kind === 'sweep', slots, objects };
    });
  if (templates.length === 0) throw new Error(`no templates in ${templatesDir}`);
  return { schema, templates, caseFile: path.join(context.tmp, 'case.lab.json') };
}

function cases(): fc.Arbitrary<Case> {
  const hostile = hostileValue(LIMITS);
  const change: fc.Arbitrary<Change> = fc.oneof(
    { weight: 10, arbitrary: fc.record({ op: fc.constant('replace' as const), slot: fc.nat(), hostile }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('remove' as const), slot: fc.nat() }) },
    {
      weight: 4,
      arbitrary: fc.record({
        op: fc.constant('add-key' as const),
        object: fc.nat(),
        key: fc.constantFrom<KeyChoice>('missing-option', 'typo', 'unknown', '__proto__', 'constructor', 'empty', 'pointer-characters', 'long'),
        pick: fc.nat(),
        keyLength: logSize(LIMITS.string),
        hostile,
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('duplicate-key' as const), slot: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), fraction: fc.double({ min: 0, max: 1, noNaN: true }) }) },
  );
  return fc.record({ template: fc.nat(), change });
}

const typo = (key: string): string => (key.length > 1 ? key.slice(0, -2) + key[key.length - 1] + key[key.length - 2] : `${key}s`);

function keyName(choice: KeyChoice, object: Slot, pick: number, keyLength: number): string {
  const present = Object.keys(object.value as object);
  const missing = knownKeys(object.schema, object.value).filter((k) => !present.includes(k));
  switch (choice) {
    case 'missing-option':
      return missing.length > 0 ? missing[pick % missing.length] : 'unknownOption';
    case 'typo':
      return present.length > 0 ? typo(present[pick % present.length]) : 'nmae';
    case 'unknown':
      return 'fuzzUnknown';
    case '__proto__':
    case 'constructor':
      return choice;
    case 'empty':
      return '';
    case 'pointer-characters':
      return 'a/b~c~1';
    case 'long':
      return 'k'.repeat(keyLength);
  }
}

/** The text of the case's file: the template with the change applied. */
function caseText(template: Template, change: Change): string {
  const slot = (index: number) => template.slots[index % template.slots.length];
  switch (change.op) {
    case 'replace': {
      const { path: at, schema, value } = slot(change.slot);
      return spliceRaw(template.document, at, { raw: hostileText(change.hostile, schema, value) });
    }
    case 'remove':
      return spliceRaw(template.document, slot(change.slot).path, {});
    case 'add-key': {
      const object = template.objects[change.object % template.objects.length];
      const key = keyName(change.key, object, change.pick, change.keyLength);
      const schema = childSchema(object.schema, object.value, key);
      return spliceRaw(template.document, object.path, { addMembers: `${JSON.stringify(key)}: ${hostileText(change.hostile, schema, undefined)}` });
    }
    case 'duplicate-key': {
      // Only object members have keys: the value stays, a second member with the same key follows.
      const members = template.slots.filter((s) => typeof s.path[s.path.length - 1] === 'string');
      const { path: at, value } = members[change.slot % members.length];
      return spliceRaw(template.document, at, { raw: `${JSON.stringify(value)}, ${JSON.stringify(at[at.length - 1])}: ${JSON.stringify(value)}` });
    }
    case 'truncate': {
      const text = JSON.stringify(template.document, null, 2);
      return text.slice(0, Math.floor(text.length * change.fraction));
    }
  }
}

/** Numbers finite; integer fields (by the schema) safe integers, recursively. */
function assertSoundValues(value: unknown, schema: Schema | undefined, where: string): void {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) fail('accepted a non-finite number', `${where} = ${value}`);
    if (schema?.type === 'integer' && !Number.isSafeInteger(value)) fail('accepted an integer field that is not a safe integer', `${where} = ${value}`);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  for (const [key, child] of Array.isArray(value) ? value.entries() : Object.entries(value)) {
    assertSoundValues(child, childSchema(schema, value, key), `${where}/${key}`);
  }
}

async function check(state: State, testCase: Case): Promise<void> {
  const template = state.templates[testCase.template % state.templates.length];
  const text = caseText(template, testCase.change);
  fs.writeFileSync(state.caseFile, text);
  const what = `validating ${path.basename(template.file)} with ${describeChange(template, testCase.change)}`;

  try {
    if (template.isSweep) {
      const { members } = loadSweepFile(state.caseFile);
      for (const member of members) assertSoundValues(member.spec, state.schema, `member ${member.label}`);
    } else {
      assertSoundValues(loadSpecFile(state.caseFile), state.schema, '');
    }
  } catch (error) {
    assertLocatedError(error, [state.caseFile], what);
    if (!(error instanceof SpecError)) fail(`threw a ${(error as Error).name}, not a SpecError`, `${what}: ${(error as Error).message.slice(0, 300)}`);
    if (error.problems.length === 0) fail('a SpecError without problems', what);
    for (const problem of error.problems) {
      if (typeof problem.path !== 'string' || (problem.path !== '' && !problem.path.startsWith('/'))) fail('a problem without a JSON pointer', `${what}: ${JSON.stringify(problem).slice(0, 300)}`);
      if (typeof problem.message !== 'string' || problem.message === '') fail('a problem without a message', `${what}: at ${problem.path}`);
    }
  }
  // How VS Code tells a sweep file from an experiment before validating it: true or false, never a crash.
  try {
    isSweepText(text);
  } catch (error) {
    assertLocatedError(error, [], `isSweepText (${what})`);
  }
}

function describeChange(template: Template, change: Change): string {
  const slot = (index: number) => pointerOf(template.slots[index % template.slots.length].path);
  switch (change.op) {
    case 'replace':
      return `${slot(change.slot)} = ${JSON.stringify(change.hostile)}`;
    case 'remove':
      return `${slot(change.slot)} removed`;
    case 'add-key':
      return `key ${change.key}${change.key === 'long' ? ` (${change.keyLength} characters)` : ''} added to ${pointerOf(template.objects[change.object % template.objects.length].path) || '/'} = ${JSON.stringify(change.hostile)}`;
    case 'duplicate-key':
      return `a key given twice (#${change.slot})`;
    case 'truncate':
      return `the text cut at ${Math.round(change.fraction * 100)}%`;
  }
}

export const specFiles: FuzzTarget<State, Case> = {
  name: 'spec-files',
  setup,
  cases,
  check,
  describe: (state, testCase) => {
    const template = state.templates[testCase.template % state.templates.length];
    return `${path.basename(template.file)}: ${describeChange(template, testCase.change)}`;
  },
};
