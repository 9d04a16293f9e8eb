import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import { findModel, findObjective, findTask, modelEntries, registerModel, registerTask, type Entry, type Model } from '../../src/core/registry';
import { experimentSchema, kindsOf, trainingDefaults } from '../../src/core/spec/schema';
import { instantiateTemplate, listTemplates } from '../../src/core/spec/templates';
import { SpecError, type SpecProblem } from '../../src/core/spec/types';
import { isSweepText, loadSpecFile, loadSweepFile, parseSpec, parseSweepSpec } from '../../src/core/spec/validate';

const root = join(__dirname, '..', '..');
const templatesDir = join(root, 'templates');
const examplesDir = join(root, 'examples');

// validate.ts imports src/core/labs.ts, which registers the first lab's entries. Should they be
// missing (labs renamed, entries moved), stand-ins with the documented options keep these tests
// about the validator rather than about the lab.
const unusable = (): never => {
  throw new Error('test stand-in: not buildable');
};
if (!findTask('contextual-retrieval')) {
  registerTask({
    name: 'contextual-retrieval',
    description: 'stand-in',
    options: {
      type: 'object',
      properties: {
        seqLen: { type: 'integer', minimum: 2, default: 10 },
        searchFeatures: { type: 'integer', minimum: 1, default: 2 },
        retrievalFeatures: { type: 'integer', minimum: 1, default: 4 },
        split: { enum: ['ood', 'iid'], default: 'ood' },
        coefficients: { enum: ['random', 'ones'], default: 'random' },
      },
    },
    create: unusable,
  });
}
if (!findModel('multi-head-attention')) {
  registerModel({
    name: 'multi-head-attention',
    description: 'stand-in',
    options: {
      type: 'object',
      properties: {
        dim: { type: 'integer', minimum: 2, default: 64 },
        heads: { type: 'integer', minimum: 1, default: 2 },
        concat: { type: 'boolean', default: true },
      },
    },
    create: unusable,
  });
}
assert.ok(findObjective('l1'), "objective 'l1' should be registered by src/core/labs.ts");

// A task with a required option, to test missing options inside a component.
registerTask({
  name: 'test-required-task',
  description: 'test entry with a required option',
  options: { type: 'object', properties: { size: { type: 'integer', minimum: 1 } }, required: ['size'] },
  create: unusable,
});

/** A minimal valid spec; `patch` replaces top-level fields (undefined removes one). */
function specText(patch: Record<string, unknown> = {}, indent = 2): string {
  const spec: Record<string, unknown> = {
    formatVersion: 1,
    kind: 'train',
    name: 'unit',
    task: { name: 'contextual-retrieval' },
    model: { name: 'multi-head-attention' },
    objective: { name: 'l1' },
  };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) delete spec[key];
    else spec[key] = value;
  }
  return JSON.stringify(spec, null, indent);
}

/** 1-based line and column of the first occurrence of `needle` in `text`. */
function positionOf(text: string, needle: string): { offset: number; line: number; column: number } {
  const offset = text.indexOf(needle);
  assert.ok(offset >= 0, `${needle} not in text`);
  const before = text.slice(0, offset).split('\n');
  return { offset, line: before.length, column: before[before.length - 1].length + 1 };
}

function onlyProblem(text: string): SpecProblem {
  const { spec, problems } = parseSpec(text, 'test.lab.json');
  assert.equal(spec, undefined, 'an invalid spec must not resolve');
  assert.equal(problems.length, 1, JSON.stringify(problems, null, 2));
  return problems[0];
}

function assertAt(problem: SpecProblem, text: string, needle: string): void {
  const expected = positionOf(text, needle);
  assert.deepEqual(
    { offset: problem.offset, length: problem.length, line: problem.line, column: problem.column },
    { offset: expected.offset, length: needle.length, line: expected.line, column: expected.column },
  );
}

test('omitted fields get their documented defaults', () => {
  const { spec, problems } = parseSpec(specText(), 'good.lab.json');
  assert.deepEqual(problems, []);
  assert.ok(spec);
  assert.equal(spec.seed, 0);
  assert.deepEqual(spec.training, {
    steps: 2000,
    batchSize: 256,
    learningRate: 1e-4,
    optimizer: 'adam',
    learningRateSchedule: 'constant',
    gradientWorkers: 1,
    logEvery: 10,
    evalEvery: 250,
    evalBatches: 10,
    checkpointEvery: 500,
    keepCheckpoints: 3,
  });
  assert.deepEqual(spec.training, trainingDefaults());
  assert.deepEqual(spec.task, {
    name: 'contextual-retrieval',
    seqLen: 10,
    searchFeatures: 2,
    retrievalFeatures: 4,
    split: 'ood',
    splitRule: 'truncate',
    coefficients: 'paper',
    coefficientValues: [-0.71347752, -0.6062312],
  });
  assert.deepEqual(spec.model, { name: 'multi-head-attention', dim: 64, heads: 2, concat: true });
  assert.deepEqual(spec.objective, { name: 'l1' });
  assert.equal('description' in spec, false, 'description has no default');
});

test('a partly given training object keeps its values and fills the rest', () => {
  const { spec } = parseSpec(specText({ training: { steps: 7, optimizer: 'sgd' } }), 'x');
  assert.ok(spec);
  assert.equal(spec.training.steps, 7);
  assert.equal(spec.training.optimizer, 'sgd');
  assert.equal(spec.training.batchSize, 256);
  assert.equal(spec.training.keepCheckpoints, 3);
});

test('given values are never replaced, and $schema is dropped', () => {
  const given = {
    formatVersion: 1,
    kind: 'train',
    name: 'all-given',
    description: 'every field written out',
    seed: 42,
    task: { name: 'contextual-retrieval', seqLen: 5, searchFeatures: 3, retrievalFeatures: 2, split: 'iid', splitRule: 'top-up', coefficients: 'ones', coefficientValues: [1, 1, 1] },
    model: { name: 'multi-head-attention', dim: 16, heads: 4, concat: false },
    objective: { name: 'l1' },
    training: {
      steps: 11, batchSize: 4, learningRate: 0.5, optimizer: 'sgd', learningRateSchedule: 'cosine', gradientWorkers: 2, logEvery: 2,
      evalEvery: 5, evalBatches: 1, checkpointEvery: 4, keepCheckpoints: 1,
    },
  };
  const { spec, problems } = parseSpec(JSON.stringify({ $schema: './x.json', ...given }), 'x');
  assert.deepEqual(problems, []);
  assert.deepEqual(spec, given);
  assert.deepEqual(Object.keys(spec!), Object.keys(given), 'keys in schema order');
});

test('an invalid spec resolves to nothing: invalid values are reported, not replaced', () => {
  const { spec, problems } = parseSpec(specText({ seed: -3, training: { steps: 0 } }), 'x');
  assert.equal(spec, undefined);
  assert.deepEqual(problems.map((p) => p.path), ['/seed', '/training/steps']);
  assert.match(problems[0].message, /got -3/);
});

test('syntax errors are located', () => {
  const text = '{\n  "formatVersion": 1,\n  "kind": "train"\n  "name": "x"\n}';
  const problem = parseSpec(text, 'x').problems[0];
  assert.match(problem.message, /JSON syntax error: expected ','/);
  assert.equal(problem.path, '');
  assert.deepEqual([problem.line, problem.column], [4, 3]);

  const trailing = '{"formatVersion": 1,}';
  const comma = onlyProblem(trailing);
  assert.match(comma.message, /trailing commas are not allowed/);
  assert.deepEqual([comma.line, comma.column, comma.offset], [1, 21, 20]);

  assert.match(parseSpec('{ // note\n}', 'x').problems[0].message, /comments are not allowed/);
  assert.match(onlyProblem('   \n').message, /empty/);
  assert.match(onlyProblem('[1, 2]').message, /must hold a JSON object, got an array/);
});

test('a value of the wrong type is located at the value', () => {
  const text = specText({ training: { batchSize: '256' } });
  const problem = onlyProblem(text);
  assert.equal(problem.path, '/training/batchSize');
  assert.equal(problem.message, 'must be an integer >= 1, got "256"');
  assertAt(problem, text, '"256"');
  assert.deepEqual([problem.line, problem.column], [15, 18]);
});

test('out-of-range values say what was expected', () => {
  const steps = specText({ training: { steps: 0 } });
  const problem = onlyProblem(steps);
  assert.equal(problem.path, '/training/steps');
  assert.equal(problem.message, 'must be an integer >= 1, got 0');
  assertAt(problem, steps, '0');

  const rate = specText({ training: { learningRate: 0 } });
  assert.equal(onlyProblem(rate).message, 'must be a number > 0, got 0');

  const fraction = specText({ training: { steps: 2.5 } });
  assert.equal(onlyProblem(fraction).message, 'must be an integer >= 1, got 2.5', 'one sentence per value');

  const heads = specText({ model: { name: 'multi-head-attention', heads: 0 } });
  const headsProblem = onlyProblem(heads);
  assert.equal(headsProblem.path, '/model/heads');
  assert.match(headsProblem.message, /^must be an integer >= 1, got 0$/);
  assertAt(headsProblem, heads, '0');

  const optimizer = specText({ training: { optimizer: 'adamw' } });
  assert.equal(onlyProblem(optimizer).message, "must be one of 'adam', 'sgd', got \"adamw\"");

  assert.match(onlyProblem(specText({ name: 'my run' })).message, /must be an identifier.*got "my run"/);
});

test('unknown properties are located at their key, with a suggestion when close', () => {
  const text = specText({ training: { stepz: 100 } });
  const problem = onlyProblem(text);
  assert.equal(problem.path, '/training/stepz');
  assert.match(problem.message, /^unknown property 'stepz'.*did you mean 'steps'\?$/);
  assertAt(problem, text, '"stepz"');

  const option = specText({ task: { name: 'contextual-retrieval', seqLn: 4 } });
  const optionProblem = onlyProblem(option);
  assert.equal(optionProblem.path, '/task/seqLn');
  assert.match(optionProblem.message, /task 'contextual-retrieval'; did you mean 'seqLen'\?/);
  assertAt(optionProblem, option, '"seqLn"');

  const far = onlyProblem(specText({ colour: 'red' }));
  assert.equal(far.path, '/colour');
  assert.match(far.message, /^unknown property 'colour'; expected one of .*formatVersion/);
  assert.doesNotMatch(far.message, /did you mean/);

  const noOptions = onlyProblem(specText({ objective: { name: 'l1', scale: 2 } }));
  assert.match(noOptions.message, /objective 'l1': .*takes no options|expected one of name/);
});

test('an unknown component name lists the registered ones', () => {
  const text = specText({ task: { name: 'contextual-retreival' } });
  const problem = onlyProblem(text);
  assert.equal(problem.path, '/task/name');
  assert.match(problem.message, /^unknown task 'contextual-retreival': expected one of .*contextual-retrieval.*did you mean 'contextual-retrieval'\?\)$/);
  assertAt(problem, text, '"contextual-retreival"');

  const far = onlyProblem(specText({ model: { name: 'foo' } }));
  assert.match(far.message, /^unknown model 'foo': expected one of multi-head-attention/);
  assert.doesNotMatch(far.message, /did you mean/);
});

test('missing required properties point at the object that lacks them', () => {
  const top = specText({ model: undefined });
  const problem = onlyProblem(top);
  assert.equal(problem.path, '/model');
  assert.match(problem.message, /^missing required property 'model'/);
  assert.deepEqual([problem.offset, problem.length, problem.line, problem.column], [0, 1, 1, 1]);

  const nameless = specText({ objective: {} });
  const noName = onlyProblem(nameless);
  assert.equal(noName.path, '/objective/name');
  assertAt(noName, nameless, '"objective"');

  const option = specText({ task: { name: 'test-required-task' } });
  const noOption = onlyProblem(option);
  assert.equal(noOption.path, '/task/size');
  assert.match(noOption.message, /missing required property 'size'/);
  assertAt(noOption, option, '"task"');
});

test('a wrong formatVersion is a located error', () => {
  const text = specText({ formatVersion: 2 });
  const problem = onlyProblem(text);
  assert.equal(problem.path, '/formatVersion');
  assert.match(problem.message, /unsupported formatVersion 2: .*reads formatVersion 1/);
  assertAt(problem, text, '2');
});

test('duplicate keys are reported at the second key', () => {
  const text = '{"formatVersion": 1, "kind": "train", "name": "a", "name": "b", "task": {"name": "contextual-retrieval"}, "model": {"name": "multi-head-attention"}, "objective": {"name": "l1"}}';
  const problem = onlyProblem(text);
  assert.equal(problem.path, '/name');
  assert.match(problem.message, /duplicate property 'name'/);
  assert.equal(problem.offset, text.indexOf('"name": "b"'));
});

test('numbers beyond a double are errors, not Infinity', () => {
  const text = specText({ seed: 1 }).replace('"seed": 1', '"seed": 1e400');
  const problems = parseSpec(text, 'x').problems;
  assert.equal(problems[0].path, '/seed');
  assert.match(problems[0].message, /number out of range/);
  assertAt(problems[0], text, '1e400');
});

test('problems come in file order, all of them at once', () => {
  const text = specText({ seed: 'zero', training: { steps: -1, extra: true }, task: { name: 'nope' } });
  const { problems } = parseSpec(text, 'x');
  // specText keeps task in place and appends seed and training after objective.
  assert.deepEqual(problems.map((p) => p.path), ['/task/name', '/seed', '/training/steps', '/training/extra']);
  for (const p of problems) assert.ok(p.line && p.column && p.offset !== undefined && p.length !== undefined);
});

test("kind 'sample' needs a model that declares it", () => {
  const text = specText({ kind: 'sample' });
  const samplers = modelEntries().filter((m) => kindsOf(m).includes('sample'));
  if (samplers.length === 0) {
    const problem = onlyProblem(text);
    assert.equal(problem.path, '/kind');
    assert.equal(problem.message, "kind 'sample' is not supported by any registered model yet");
    assertAt(problem, text, '"sample"');
  }
  // A lab adds a sampler: 'sample' becomes valid with it, and says which model to use otherwise.
  registerModel({
    name: 'test-sampler',
    description: 'test entry that samples',
    options: { type: 'object', properties: {} },
    kinds: ['sample'],
    create: unusable,
  } as Entry<Model>);
  assert.match(onlyProblem(text).message, /not supported by model 'multi-head-attention': models that support it: test-sampler/);
  const { spec } = parseSpec(specText({ kind: 'sample', model: { name: 'test-sampler' } }), 'x');
  assert.equal(spec?.kind, 'sample');
  assert.match(onlyProblem(specText({ model: { name: 'test-sampler' } })).message, /kind 'train' is not supported by model 'test-sampler'/);
});

test('loadSpecFile reads, resolves, and throws SpecError with located problems', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spec-test-'));
  try {
    const good = join(dir, 'good.lab.json');
    writeFileSync(good, `\ufeff${specText()}`); // with a byte-order mark, as some editors write
    assert.equal(loadSpecFile(good).training.steps, 2000);

    const bad = join(dir, 'bad.lab.json');
    writeFileSync(bad, specText({ training: { steps: 0 } }));
    assert.throws(() => loadSpecFile(bad), (error: unknown) => {
      assert.ok(error instanceof SpecError);
      assert.equal(error.file, bad);
      assert.equal(error.problems[0].path, '/training/steps');
      assert.match(error.message, /bad\.lab\.json:15:14: \/training\/steps: must be an integer >= 1, got 0/);
      return true;
    });

    assert.throws(() => loadSpecFile(join(dir, 'missing.lab.json')), (error: unknown) => {
      assert.ok(error instanceof SpecError);
      assert.match(error.message, /cannot read the experiment file: it cannot be read \(ENOENT/);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every template and every example except broken.lab.json validates', () => {
  const files = [
    ...readdirSync(templatesDir).map((f) => join(templatesDir, f)),
    ...readdirSync(examplesDir).map((f) => join(examplesDir, f)),
  ].filter((f) => f.endsWith('.lab.json') && !f.endsWith('broken.lab.json'));
  assert.ok(files.length >= 4, `templates and examples found: ${files.join(', ')}`);
  for (const file of files) {
    if (isSweepText(readFileSync(file, 'utf8'))) {
      assert.ok(loadSweepFile(file).members.length > 1, file);
      continue;
    }
    const spec = loadSpecFile(file);
    assert.equal(spec.formatVersion, 1, file);
  }
  const quick = loadSpecFile(join(templatesDir, 'retrieval-mha-quick.lab.json'));
  const full = loadSpecFile(join(templatesDir, 'retrieval-mha.lab.json'));
  assert.ok(quick.training.steps < full.training.steps);
  assert.equal(full.task.split, 'ood');
});

test('examples/broken.lab.json shows many located problems', () => {
  const text = readFileSync(join(examplesDir, 'broken.lab.json'), 'utf8');
  const { spec, problems } = parseSpec(text, 'broken.lab.json');
  assert.equal(spec, undefined);
  assert.ok(problems.length >= 6, JSON.stringify(problems, null, 2));
  for (const p of problems) assert.ok(p.path && p.line && p.column, JSON.stringify(p));
  assert.ok(problems.some((p) => /did you mean 'evalEvery'/.test(p.message)));
});

test('templates are listed with their descriptions', () => {
  const templates = listTemplates(templatesDir);
  const names = templates.map((t) => t.name);
  assert.deepEqual(names, [...names].sort(), 'sorted by name');
  for (const name of ['retrieval-mha', 'retrieval-mha-quick']) assert.ok(names.includes(name), name);
  for (const t of templates) {
    assert.ok(t.description.length > 20, t.name);
    assert.equal(t.file, join(templatesDir, `${t.name}.lab.json`));
  }
  assert.match(templates.find((t) => t.name === 'retrieval-mha')!.description, /100k steps/);
});

test('instantiating a template writes a valid spec named after the file and never overwrites', () => {
  const dir = mkdtempSync(join(tmpdir(), 'template-test-'));
  try {
    const target = join(dir, 'sub', 'my-first.lab.json');
    assert.equal(instantiateTemplate(templatesDir, 'retrieval-mha-quick', target), target);
    const spec = loadSpecFile(target);
    assert.equal(spec.name, 'my-first');
    assert.equal(spec.training.steps, loadSpecFile(join(templatesDir, 'retrieval-mha-quick.lab.json')).training.steps);

    writeFileSync(target, 'mine');
    assert.throws(() => instantiateTemplate(templatesDir, 'retrieval-mha', target), /already exists/);
    assert.equal(readFileSync(target, 'utf8'), 'mine', 'the existing file is untouched');

    assert.throws(
      () => instantiateTemplate(templatesDir, 'no-such', join(dir, 'x.lab.json')),
      /unknown template 'no-such': known templates are .*retrieval-mha, retrieval-mha-quick/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the editor schema offers registered names and the chosen entry options', () => {
  const schema = experimentSchema();
  const properties = schema.properties as Record<string, Record<string, any>>;
  assert.ok(properties.task.properties.name.enum.includes('contextual-retrieval'));
  assert.ok(properties.model.properties.name.enum.includes('multi-head-attention'));
  const mha = properties.model.allOf.find((b: any) => b.if.properties.name.const === 'multi-head-attention');
  assert.equal(mha.then.properties.dim.default, 64);
  assert.equal(properties.training.properties.steps.default, 2000);

  // The schema itself must be valid draft-07 and agree with the validator on real files.
  const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
  for (const name of ['retrieval-mha', 'retrieval-mha-quick']) {
    assert.ok(validate(JSON.parse(readFileSync(join(templatesDir, `${name}.lab.json`), 'utf8'))), JSON.stringify(validate.errors));
  }
  assert.equal(validate(JSON.parse(specText({ model: { name: 'multi-head-attention', width: 3 } }))), false, 'options of the chosen entry are closed');
  assert.equal(validate(JSON.parse(specText({ training: { steps: 0 } }))), false);
  assert.equal(validate(JSON.parse(readFileSync(join(examplesDir, 'broken.lab.json'), 'utf8'))), false);
});

test('scripts/write-schema.ts writes the schema file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'schema-test-'));
  try {
    const out = join(dir, 'nested', 'experiment.schema.json');
    execFileSync(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'write-schema.ts'), out], { cwd: root });
    const written = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(written.$schema, 'http://json-schema.org/draft-07/schema#');
    assert.ok(written.properties.task.properties.name.enum.includes('contextual-retrieval'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------
// Bounded inputs (issue 18, item 10): safe integers, nesting depth, short messages, name caps.

test('integers past 2^53 - 1 are refused wherever the schema has an integer', () => {
  for (const [patch, path] of [
    [{ training: { steps: 2 ** 53 } }, '/training/steps'],
    [{ seed: 1e20 }, '/seed'],
    [{ model: { name: 'multi-head-attention', dim: 2 ** 60 } }, '/model/dim'],
  ] as const) {
    const { spec, problems } = parseSpec(specText(patch), 'big.lab.json');
    assert.equal(spec, undefined, JSON.stringify(patch));
    assert.equal(problems[0].path, path);
    assert.match(problems[0].message, /at most 2\^53 - 1/);
  }
  assert.ok(parseSpec(specText({ training: { steps: Number.MAX_SAFE_INTEGER } }), 'max.lab.json').spec, 'the largest safe integer is still valid');
});

test('a spec nested 100000 deep gives a located error, not a stack overflow', () => {
  const deep = `{"formatVersion": 1, "description": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
  const { spec, problems } = parseSpec(deep, 'deep.lab.json');
  assert.equal(spec, undefined);
  assert.equal(problems.length, 1);
  assert.match(problems[0].message, /nest more than 64 levels/);
  assert.equal(problems[0].line, 1);
  assert.equal(problems[0].column, deep.indexOf('[') + 64, 'points at the bracket past the limit (the object is level 1)');
  // Brackets inside strings do not count.
  assert.ok(parseSpec(specText({ description: '['.repeat(1000) }), 'strings.lab.json').spec);
});

test('20000 unknown keys or a 2 MB value give a short message', () => {
  const keys = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i]));
  const { problems } = parseSpec(specText({ training: keys }), 'keys.lab.json');
  assert.ok(problems.length <= 102, `${problems.length} problems kept`);
  assert.ok(problems.some((p) => /and 19900 more problems like these/.test(p.message)));
  const message = new SpecError('keys.lab.json', problems).message;
  assert.ok(message.split('\n').length <= 21, 'at most 20 problems listed, then "and N more"');
  assert.match(message, /and \d+ more problems$/);

  const huge = 'x'.repeat(2_000_000); // the 20 MB of the report behave the same, 10x slower
  for (const patch of [{ name: huge }, { model: { name: huge } }, { training: { [huge]: 1 } }, { task: { name: 'contextual-retrieval', seqLen: huge } }]) {
    const result = parseSpec(specText(patch), 'huge.lab.json');
    const text = new SpecError('huge.lab.json', result.problems).message;
    assert.ok(text.length < 2000, `message of ${text.length} characters for ${Object.keys(patch)[0]}`);
  }
});

test('names are capped: experiment names at 200 characters, sweep names at 100', () => {
  const long = parseSpec(specText({ name: 'a'.repeat(201) }), 'long.lab.json');
  assert.equal(long.problems[0].path, '/name');
  assert.equal(long.problems[0].message, 'must be at most 200 characters long, got 201 characters');
  assert.ok(parseSpec(specText({ name: 'a'.repeat(200) }), 'ok.lab.json').spec);
});

test('an empty list or object says so (not "must be an array, got an array")', () => {
  const { problems } = parseSweepSpecText({ grid: { '/seed': [] } });
  assert.equal(problems[0].path, '/grid/~1seed');
  assert.equal(problems[0].message, 'must be an array of at least 1 item, got an empty array');
  assert.equal(parseSweepSpecText({ grid: {} }).problems[0].message, 'must be a non-empty object, got an empty object');
});

test('an experiment file that is a folder or a device is refused without reading it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spec-test-'));
  try {
    assert.throws(() => loadSpecFile(dir), /cannot read the experiment file: it is a folder, not a file/);
    assert.throws(() => loadSpecFile('/dev/zero'), /cannot read the experiment file: it is not a regular file/);
    const big = join(dir, 'big.lab.json');
    writeFileSync(big, ' '.repeat(5 * 1024 * 1024));
    assert.throws(() => loadSpecFile(big), /is 5\.0 MiB, more than the 4\.0 MiB allowed/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function parseSweepSpecText(patch: Record<string, unknown>) {
  const sweep = {
    formatVersion: 1,
    kind: 'sweep',
    name: 'grid',
    base: { task: { name: 'contextual-retrieval' }, model: { name: 'multi-head-attention' }, objective: { name: 'l1' } },
    grid: { '/seed': [0, 1] },
    ...patch,
  };
  return parseSweepSpec(JSON.stringify(sweep, null, 2), 'grid.lab.json', () => {
    throw new Error('no base files here');
  });
}
