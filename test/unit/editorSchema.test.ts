// The schema VS Code gets (src/core/spec/editorSchema.ts): it never fails, so the Problems panel
// lists each mistake once (Model Lab's own), while completion and hover keep what they read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import '../../src/core/labs';
import { editorSchema } from '../../src/core/spec/editorSchema';
import { experimentSchema } from '../../src/core/spec/schema';
import { parseSpec } from '../../src/core/spec/validate';

type Schema = Record<string, any>;

const root = join(__dirname, '..', '..');
const brokenFile = join(root, 'examples', 'broken.lab.json');
const labFiles = [join(root, 'templates'), join(root, 'examples')].flatMap((dir) =>
  readdirSync(dir)
    .filter((name) => name.endsWith('.lab.json'))
    .map((name) => join(dir, name)),
);
const compile = (schema: Schema) => new Ajv({ allErrors: true, strict: false }).compile(schema);

test('the broken example: the real schema finds its mistakes, the editor schema none', () => {
  const broken = JSON.parse(readFileSync(brokenFile, 'utf8'));
  const real = compile(experimentSchema());
  assert.equal(real(broken), false);
  assert.ok((real.errors ?? []).length >= 10, JSON.stringify(real.errors));
  // Model Lab reports them itself, located (this is what the Problems panel shows).
  assert.equal(parseSpec(readFileSync(brokenFile, 'utf8'), brokenFile).problems.length, 10);

  const editor = compile(editorSchema(experimentSchema()));
  assert.equal(editor(broken), true, JSON.stringify(editor.errors));
});

/** Every value of a document, with its JSON pointer. */
function* values(value: unknown, pointer: string[] = []): Generator<string[]> {
  yield pointer;
  if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) yield* values(child, [...pointer, key]);
  }
}

function replaced(document: unknown, pointer: string[], value: unknown): unknown {
  if (pointer.length === 0) return value;
  const copy = (Array.isArray(document) ? [...document] : { ...(document as object) }) as Record<string, unknown>;
  copy[pointer[0]] = replaced(copy[pointer[0]], pointer.slice(1), value);
  return copy;
}

test('no document fails the editor schema: every value of every shipped file replaced by wrong ones', () => {
  const editor = compile(editorSchema(experimentSchema()));
  const wrong = ['', 'x', -1, 0.5, 2 ** 60, true, null, [], [1, 'a'], {}, { name: 'no-such', extra: 1 }];
  let checked = 0;
  for (const file of labFiles) {
    const document = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    assert.ok(editor(document), `${file}: ${JSON.stringify(editor.errors)}`);
    for (const pointer of values(document)) {
      for (const value of wrong) {
        const changed = replaced(document, pointer, value);
        assert.ok(editor(changed), `${file} with /${pointer.join('/')} = ${JSON.stringify(value)}: ${JSON.stringify(editor.errors)}`);
        checked++;
      }
    }
    for (const extra of ['unknown', 'grid', 'task']) assert.ok(editor({ ...document, [extra]: 1 }));
  }
  assert.ok(checked > 1000, `${checked} documents checked`);
});

/** Every schema object in the tree (values of `properties`, items of `allOf`, `then`, ...). */
function* schemas(schema: unknown): Generator<Schema> {
  if (typeof schema !== 'object' || schema === null) return;
  if (Array.isArray(schema)) {
    for (const item of schema) yield* schemas(item);
    return;
  }
  yield schema as Schema;
  for (const [key, child] of Object.entries(schema)) {
    if (['default', 'examples', 'defaultSnippets', 'enum', 'const', 'if'].includes(key)) continue;
    if (key === 'properties') for (const property of Object.values(child as object)) yield* schemas(property);
    else yield* schemas(child);
  }
}

test('the editor schema has no constraint left outside an alternative that always matches', () => {
  const schema = editorSchema(experimentSchema());
  for (const node of schemas(schema)) {
    for (const keyword of ['required', 'oneOf', 'not', 'minimum', 'maximum', 'exclusiveMinimum', 'pattern', 'maxLength', 'minItems', 'minProperties']) {
      assert.equal(node[keyword], undefined, `${keyword} in ${JSON.stringify(node).slice(0, 200)}`);
    }
    assert.notEqual(node.additionalProperties, false);
    if (node.anyOf) assert.deepEqual(node.anyOf.at(-1), {}, 'the last alternative accepts anything');
    const constraints = ['enum', 'const', 'type'].filter((keyword) => node[keyword] !== undefined);
    if (constraints.length > 0) assert.ok(isSuggestion(node, schema), `${constraints.join(', ')} only inside a suggestion`);
  }
});

/** True when `node` is an alternative of some `anyOf` that ends with `{}`. */
function isSuggestion(node: Schema, schema: Schema): boolean {
  for (const candidate of schemas(schema)) {
    if (Array.isArray(candidate.anyOf) && candidate.anyOf.includes(node)) return true;
  }
  return false;
}

/** The suggested values of a field (what completion offers), with their descriptions. */
function suggested(field: Schema): { values: unknown[]; descriptions: string[] } {
  const alternative = (field.anyOf ?? []).find((a: Schema) => a.enum || a.const !== undefined) ?? {};
  return { values: alternative.enum ?? (alternative.const !== undefined ? [alternative.const] : []), descriptions: alternative.enumDescriptions ?? [] };
}

test('completion and hover data survive: names with descriptions, options of the chosen entry, defaults, snippets', () => {
  const real = experimentSchema() as Schema;
  const editor = editorSchema(real) as Schema;
  assert.equal(editor.$schema, real.$schema);
  assert.equal(editor.description, real.description);
  assert.deepEqual(editor.defaultSnippets, real.defaultSnippets);

  for (const role of ['task', 'model', 'objective']) {
    const name = editor.properties[role].properties.name;
    const realName = real.properties[role].properties.name;
    assert.equal(name.description, realName.description);
    assert.deepEqual(suggested(name).values, realName.enum, `${role} names offered`);
    assert.deepEqual(suggested(name).descriptions, realName.enumDescriptions, `${role} names described`);
    assert.deepEqual(editor.properties[role].defaultSnippets, real.properties[role].defaultSnippets);
  }
  assert.ok(suggested(editor.properties.model.properties.name).values.includes('multi-head-attention'));

  // The options of the chosen model: the condition as written, the options with docs and defaults.
  const mha = editor.properties.model.allOf.find((b: Schema) => b.if.properties.name.const === 'multi-head-attention');
  const realMha = real.properties.model.allOf.find((b: Schema) => b.if.properties.name.const === 'multi-head-attention');
  assert.deepEqual(mha.if, realMha.if);
  assert.equal(mha.then.properties.dim.default, 64);
  assert.equal(mha.then.properties.dim.markdownDescription, realMha.then.properties.dim.markdownDescription);

  const steps = editor.properties.training.properties.steps;
  assert.equal(steps.default, 2000);
  assert.equal(steps.description, real.properties.training.properties.steps.description);
  assert.deepEqual(suggested(editor.properties.training.properties.optimizer), {
    values: ['adam', 'sgd'],
    descriptions: real.properties.training.properties.optimizer.enumDescriptions,
  });
  // Sweeps: `kind` offers 'sweep', the base both forms (a file, or the experiment inline).
  assert.ok(suggested(editor.properties.kind).values.includes('sweep'));
  assert.ok(editor.properties.base.anyOf.some((a: Schema) => a.properties?.file));
  assert.ok(editor.properties.base.anyOf.some((a: Schema) => a.properties?.model));
});

test('scripts/write-schema.ts writes the real schema and the editor copy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'editor-schema-test-'));
  try {
    const out = join(dir, 'experiment.schema.json');
    const editorOut = join(dir, 'experiment.editor.schema.json');
    execFileSync(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'write-schema.ts'), out, editorOut], { cwd: root });
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), experimentSchema());
    assert.deepEqual(JSON.parse(readFileSync(editorOut, 'utf8')), editorSchema(experimentSchema()));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
