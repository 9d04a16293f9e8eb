/**
 * Reads experiment files (`*.lab.json`): strict JSON, checked against the schema of `schema.ts`
 * (top level first, then each component against the options of the registry entry it names),
 * with every problem located (JSON pointer + offset + line/column) and explained in words.
 * Omitted optional fields get their documented defaults; a value given in the file is never
 * replaced, even when it is invalid (then the problems are returned and no spec).
 */
import { INPUT_LIMITS, readUserFile, type InputFileError } from '../userFiles';
import { excessiveNesting, MAX_KEPT_PROBLEMS, MAX_NESTING_DEPTH, shorten } from './limits';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { findNodeAtLocation, getNodeValue, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import {
  COMPONENT_ROLES,
  componentOptionsSchema,
  kindsOf,
  registeredEntries,
  SWEEP_BASE_FILE_SCHEMA,
  sweepTopLevelSchema,
  topLevelSchema,
  type ComponentEntry,
  type ComponentRole,
} from './schema';
import { findTask } from '../registry';
import { SPEC_FORMAT_VERSION, SpecError, type ResolvedSpec, type SpecProblem } from './types';
import { basename, dirname, resolve as resolvePath } from 'node:path';
import { gridSize, MAX_SWEEP_MEMBERS, memberExperiment, pointerProblem, sweepMembers, type GridPoint, type ResolvedSweep, type SweepMember } from '../sweep';

type Schema = Record<string, unknown>;
type Json = Record<string, unknown>;

/**
 * Validates an experiment file's text. Relative paths in it (e.g. a task's folder of images) are
 * resolved against `file`'s folder, so the resolved spec holds absolute paths.
 */
export function parseSpec(text: string, file: string): { spec?: ResolvedSpec; problems: SpecProblem[] } {
  const directory = dirname(resolvePath(file));
  const locate = locator(text);
  const parsed = parseObjectTree(text, locate);
  if (!parsed.root) return { problems: parsed.problems };
  const root = parsed.root;

  const problems = treeProblems(root).map(({ pointer, node, message }) => locate.node({ path: pointer, message }, node));
  // Validation fills defaults, so it works on a copy: the parsed values stay as written.
  const resolved = getNodeValue(root) as Json;
  if (resolved.kind === 'sweep') {
    const kindNode = findNodeAtLocation(root, ['kind']) ?? root;
    return { problems: [locate.node({ path: '/kind', message: SWEEP_NOT_A_RUN }, kindNode)] };
  }
  problems.push(...checkTopLevel(resolved).map((p) => locate.problem(p, root)));
  for (const role of COMPONENT_ROLES) {
    problems.push(...checkComponent(role, resolved[role], directory).map((p) => locate.problem(p, root)));
  }
  problems.push(...checkKind(resolved).map((p) => locate.problem(p, root)));
  problems.push(...checkTraining(resolved).map((p) => locate.problem(p, root)));
  if (problems.length === 0) problems.push(...recordTaskOptions(resolved).map((p) => locate.problem(p, root)));

  if (problems.length > 0) return { problems: sortByPosition(problems) };
  return { spec: inSchemaOrder(resolved), problems: [] };
}

/** The parse tree of a file that must hold one JSON object, or the syntax problems. */
function parseObjectTree(text: string, locate: Locator): { root?: Node; problems: SpecProblem[] } {
  if (text.trim() === '') return { problems: [locate.at({ path: '', message: 'the file is empty: expected a JSON object' }, 0, 0)] };
  const tooDeep = excessiveNesting(text);
  if (tooDeep !== undefined) {
    return { problems: [locate.at({ path: '', message: `objects and arrays nest more than ${MAX_NESTING_DEPTH} levels deep here: an experiment file nests a few levels` }, tooDeep, 1)] };
  }
  const syntaxErrors: ParseError[] = [];
  const root = parseTree(text, syntaxErrors, { disallowComments: true, allowTrailingComma: false });
  if (syntaxErrors.length > 0 || !root) {
    // The parser may report several errors at one spot (e.g. a trailing comma); the first says it.
    const firstAtEachOffset = syntaxErrors.filter((e, i) => syntaxErrors.findIndex((f) => f.offset === e.offset) === i);
    return { problems: firstAtEachOffset.map((e) => locate.at({ path: '', message: syntaxMessage(e, text) }, e.offset, e.length)) };
  }
  if (root.type !== 'object') {
    return { problems: [locate.node({ path: '', message: `an experiment file must hold a JSON object, got ${describeValue(getNodeValue(root))}` }, root)] };
  }
  return { root, problems: [] };
}

/** True when the text is a sweep file (`"kind": "sweep"`); false for anything else, even broken JSON. */
export function isSweepText(text: string): boolean {
  if (excessiveNesting(text) !== undefined) return false; // the parser would overflow the stack; validation locates it
  const root = parseTree(text.replace(/^\uFEFF/, ''));
  return root?.type === 'object' && findNodeAtLocation(root, ['kind'])?.value === 'sweep';
}

const SWEEP_NOT_A_RUN =
  "this file is a sweep (kind 'sweep'): it trains many runs, start it with `model-lab sweep` or Model Lab: Train in VS Code";

/** The text of an experiment or sweep file (bounded, regular file); an unreadable one is a SpecError. */
function readSpecText(file: string, what: 'experiment file' | 'sweep file'): string {
  let text: string;
  try {
    text = readUserFile(file, what, INPUT_LIMITS.specBytes).toString('utf8');
  } catch (error) {
    throw new SpecError(file, [{ path: '', message: `cannot read the ${what}: it ${(error as InputFileError).reason}` }]);
  }
  // A byte-order mark is not JSON, but editors on some platforms write one.
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

export function loadSpecFile(file: string): ResolvedSpec {
  return specFromText(readSpecText(file, 'experiment file'), file);
}

/** The resolved spec of an experiment file's text, or a SpecError with every problem located. */
export function specFromText(text: string, file: string): ResolvedSpec {
  const { spec, problems } = parseSpec(text, file);
  if (!spec) throw new SpecError(file, problems);
  return spec;
}

/**
 * An experiment file read once, whichever kind it is: a sweep's text (for sweepFromText, which
 * the extension runs off its thread) or a run's resolved spec.
 */
export function loadExperimentFile(file: string): { kind: 'sweep'; text: string } | { kind: 'run'; spec: ResolvedSpec } {
  const text = readSpecText(file, 'experiment file');
  return isSweepText(text) ? { kind: 'sweep', text } : { kind: 'run', spec: specFromText(text, file) };
}

// ---------------------------------------------------------------------------------------------
// Checks. Each returns unlocated problems plus a hint of where to point (see `Located`).

/** A problem before location: `at` says whether to point at the value, its key, or its parent object. */
interface Unlocated {
  path: string;
  message: string;
  at: 'value' | 'key' | 'parent';
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, verbose: true, strict: false });
let topLevelValidator: ValidateFunction | undefined;
// Compiled once per entry object; a lab re-registering a name registers a new object.
const componentValidators = new WeakMap<ComponentEntry, ValidateFunction>();

function checkTopLevel(value: Json): Unlocated[] {
  topLevelValidator ??= ajv.compile(topLevelSchema());
  topLevelValidator(value);
  return explainAjvErrors(topLevelValidator.errors ?? [], '');
}

/** The component's options against its entry's schema (filling defaults), then the files they name. */
function checkComponent(role: ComponentRole, component: unknown, directory: string): Unlocated[] {
  if (!isObject(component) || typeof component.name !== 'string') return []; // reported by the top level
  const entries = registeredEntries(role);
  const entry = entries.find((e) => e.name === component.name);
  if (!entry) {
    const known = entries.map((e) => e.name);
    const expected = known.length > 0 ? `expected one of ${known.join(', ')}` : `no ${role} is registered`;
    const suggestion = closest(component.name, known);
    const hint = suggestion ? ` (did you mean '${suggestion}'?)` : '';
    return [{ path: `/${role}/name`, message: `unknown ${role} '${shorten(component.name)}': ${expected}${hint}`, at: 'value' }];
  }
  let validate = componentValidators.get(entry);
  if (!validate) {
    validate = ajv.compile(componentOptionsSchema(entry));
    componentValidators.set(entry, validate);
  }
  validate(component);
  const problems = explainAjvErrors(validate.errors ?? [], `/${role}`, `${role} '${entry.name}'`);
  if (problems.length > 0 || !entry.files) return problems;
  return entry.files.resolve(component, directory).map(({ path, message }) => ({ path: `/${role}${path}`, message, at: 'value' as const }));
}

/** Fills the options the task records (see `RecordedOptions`); runs on a spec without problems. */
function recordTaskOptions(spec: Json): Unlocated[] {
  const task = spec.task as Json;
  const recorded = findTask(task.name as string)?.recorded;
  if (!recorded) return [];
  return recorded.fill(task, spec.seed as number).map(({ path, message }) => ({ path: `/task${path}`, message, at: 'value' as const }));
}

/** A resolved spec without the options its task records, so that they are recorded anew (sweep bases). */
function withoutRecordedOptions(spec: Json): Json {
  const task = spec.task as Json;
  const keys = findTask(task.name as string)?.recorded?.keys ?? [];
  return { ...spec, task: Object.fromEntries(Object.entries(task).filter(([key]) => !keys.includes(key))) };
}

/** `kind` must be supported by the chosen model (entries may declare `kinds`; default: train only). */
function checkKind(spec: Json): Unlocated[] {
  const kind = spec.kind;
  if (kind !== 'train' && kind !== 'sample') return []; // reported by the top level
  if (kind !== 'train' && spec.init !== undefined) {
    return [{ path: '/init', message: `init (start from another run's weights) applies to kind 'train' only, got kind '${kind}'`, at: 'key' }];
  }
  const models = registeredEntries('model');
  const supporting = models.filter((m) => kindsOf(m).includes(kind)).map((m) => m.name);
  if (supporting.length === 0) {
    return [{ path: '/kind', message: `kind '${kind}' is not supported by any registered model yet`, at: 'value' }];
  }
  const modelName = isObject(spec.model) ? spec.model.name : undefined;
  const model = models.find((m) => m.name === modelName);
  if (model && !supporting.includes(model.name)) {
    return [{ path: '/kind', message: `kind '${kind}' is not supported by model '${model.name}': models that support it: ${supporting.join(', ')}`, at: 'value' }];
  }
  return [];
}

/** Constraints between training fields that the schema cannot state. */
function checkTraining(spec: Json): Unlocated[] {
  const training = isObject(spec.training) ? spec.training : undefined;
  const workers = training?.gradientWorkers;
  const batch = training?.batchSize;
  if (typeof workers !== 'number' || typeof batch !== 'number' || batch % workers === 0) return [];
  return [{ path: '/training/batchSize', message: `batchSize ${batch} cannot be split between ${workers} gradient workers: expected a multiple of ${workers}`, at: 'value' }];
}

/**
 * The resolved spec with keys in the schema's order (defaults were appended at the end), so that
 * saved specs read the same whatever order the file used. `$schema` is for editors only: dropped.
 */
function inSchemaOrder(spec: Json): ResolvedSpec {
  const reorder = (value: Json, keys: string[]): Json => {
    const ordered: Json = {};
    for (const key of [...keys, ...Object.keys(value)]) if (key in value && !(key in ordered)) ordered[key] = value[key];
    return ordered;
  };
  const top = topLevelSchema().properties as Record<string, Schema>;
  const result = reorder(spec, Object.keys(top).filter((k) => k !== '$schema'));
  delete result.$schema;
  result.training = reorder(result.training as Json, Object.keys(top.training.properties as Schema));
  for (const role of COMPONENT_ROLES) {
    const entry = registeredEntries(role).find((e) => e.name === (result[role] as Json).name);
    const options = entry ? Object.keys((componentOptionsSchema(entry).properties as Schema) ?? {}) : [];
    result[role] = reorder(result[role] as Json, ['name', ...options]);
  }
  return result as unknown as ResolvedSpec;
}

// ---------------------------------------------------------------------------------------------
// Turning ajv errors into sentences.

const VALUE_KEYWORDS = new Set([
  'type', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf',
  'enum', 'const', 'pattern', 'minLength', 'maxLength', 'format', 'minItems', 'maxItems',
]);

function explainAjvErrors(errors: ErrorObject[], prefix: string, owner?: string): Unlocated[] {
  const problems: Unlocated[] = [];
  const valuesExplained = new Set<string>(); // one sentence per value, however many keywords failed
  for (const [index, error] of errors.entries()) {
    if (problems.length >= MAX_KEPT_PROBLEMS) {
      // Locating each of a million problems would take minutes; the count is what helps.
      problems.push({ path: prefix, message: `and ${errors.length - index} more problems like these (not listed)`, at: 'value' });
      break;
    }
    const path = prefix + error.instancePath;
    if (error.keyword === 'additionalProperties') {
      const key = String(error.params.additionalProperty);
      const known = Object.keys((error.parentSchema?.properties as Schema | undefined) ?? {}).filter((k) => k !== '$schema');
      const where = owner ? ` for ${owner}` : path ? ` in ${path}` : '';
      const suggestion = closest(key, known);
      const hint = suggestion
        ? `; did you mean '${suggestion}'?`
        : known.length > 0 ? `; expected one of ${known.join(', ')}` : `: ${owner ?? 'it'} takes no options`;
      problems.push({ path: `${path}/${escapePointer(key)}`, message: `unknown property '${shorten(key)}'${where}${hint}`, at: 'key' });
    } else if (error.keyword === 'required') {
      const key = String(error.params.missingProperty);
      const property = (error.parentSchema?.properties as Record<string, Schema> | undefined)?.[key];
      const about = typeof property?.description === 'string' ? ` (${firstSentence(property.description)})` : '';
      problems.push({ path: `${path}/${escapePointer(key)}`, message: `missing required property '${key}'${about}`, at: 'parent' });
    } else if (VALUE_KEYWORDS.has(error.keyword)) {
      if (valuesExplained.has(path)) continue;
      valuesExplained.add(path);
      problems.push({ path, message: valueMessage(path, error), at: 'value' });
    } else if (error.keyword === 'minProperties' && isObject(error.data) && Object.keys(error.data).length === 0) {
      problems.push({ path, message: 'must be a non-empty object, got an empty object', at: 'value' });
    } else {
      problems.push({ path, message: error.message ?? `is invalid (${error.keyword})`, at: 'value' });
    }
  }
  return problems;
}

function valueMessage(path: string, error: ErrorObject): string {
  const schema = (error.parentSchema ?? {}) as Schema;
  if (path === '/formatVersion' && error.keyword === 'const') {
    return `unsupported formatVersion ${describeValue(error.data)}: this version of Model Lab reads formatVersion ${SPEC_FORMAT_VERSION}`;
  }
  if (error.keyword === 'pattern' && typeof schema.patternErrorMessage === 'string') {
    return `${schema.patternErrorMessage}, got ${describeValue(error.data)}`;
  }
  if (error.keyword === 'maximum' && schema.maximum === Number.MAX_SAFE_INTEGER) {
    return `must be an integer at most 2^53 - 1 (${Number.MAX_SAFE_INTEGER}; larger ones are not exact as JSON numbers), got ${describeValue(error.data)}`;
  }
  if (error.keyword === 'maxLength' && typeof error.data === 'string') {
    return `must be at most ${schema.maxLength} characters long, got ${error.data.length} characters`;
  }
  if ((error.keyword === 'minItems' || error.keyword === 'maxItems') && Array.isArray(error.data)) {
    const bound = error.keyword === 'minItems' ? `at least ${schema.minItems}` : `at most ${schema.maxItems}`;
    return `must be an array of ${bound} item${error.params.limit === 1 ? '' : 's'}, got ${error.data.length === 0 ? 'an empty array' : `${error.data.length} items`}`;
  }
  return `must be ${describeExpected(schema)}, got ${describeValue(error.data)}`;
}

/** "an integer >= 1", "a number > 0", "one of 'adam', 'sgd'", "a boolean", ... */
export function describeExpected(schema: Schema): string {
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.map(quote).join(', ')}`;
  if ('const' in schema) return quote(schema.const);
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : typeof schema.type === 'string' ? [schema.type] : [];
  const parts = types.map((type) => {
    switch (type) {
      case 'integer':
      case 'number':
        return `${type === 'integer' ? 'an integer' : 'a number'}${bounds(schema)}`;
      case 'string': {
        if (typeof schema.pattern === 'string') return `a string matching /${schema.pattern}/`;
        if (typeof schema.minLength === 'number' && schema.minLength > 0) return 'a non-empty string';
        return 'a string';
      }
      case 'boolean':
        return 'a boolean (true or false)';
      case 'object':
        return 'an object';
      case 'array':
        return 'an array';
      case 'null':
        return 'null';
      default:
        return type;
    }
  });
  return parts.length > 0 ? parts.join(' or ') : 'a valid value';
}

function bounds(schema: Schema): string {
  const limits: string[] = [];
  if (typeof schema.minimum === 'number') limits.push(`>= ${schema.minimum}`);
  if (typeof schema.exclusiveMinimum === 'number') limits.push(`> ${schema.exclusiveMinimum}`);
  // Every integer is bounded by 2^53 - 1 (withSafeIntegers): said only when that bound is hit.
  if (typeof schema.maximum === 'number' && schema.maximum !== Number.MAX_SAFE_INTEGER) limits.push(`<= ${schema.maximum}`);
  if (typeof schema.exclusiveMaximum === 'number') limits.push(`< ${schema.exclusiveMaximum}`);
  if (typeof schema.multipleOf === 'number') limits.push(`a multiple of ${schema.multipleOf}`);
  return limits.length > 0 ? ` ${limits.join(' and ')}` : '';
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (isObject(value)) return 'an object';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

const quote = (value: unknown): string => (typeof value === 'string' ? `'${value}'` : JSON.stringify(value));
const firstSentence = (text: string): string => text.split(/(?<=\.)\s/)[0].replace(/\.$/, '');

/** The known word closest to `word` (for "did you mean ...?"), if one is close enough. */
export function closest(word: string, known: readonly string[]): string | undefined {
  if (word.length > 100) return undefined; // no name is that long, and the distance costs length^2
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = candidate.toLowerCase() === word.toLowerCase() ? 0 : editDistance(word, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  const tolerance = Math.max(1, Math.floor(Math.min(word.length, best?.length ?? 0) / 3));
  return bestDistance <= tolerance ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length];
}

// ---------------------------------------------------------------------------------------------
// Locations: JSON pointer -> node of the parse tree -> offset, length, line, column.

type Locator = ReturnType<typeof locator>;

function locator(text: string) {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  const at = (problem: Omit<SpecProblem, 'offset'>, offset: number, length: number): SpecProblem => {
    let line = 0;
    while (line + 1 < lineStarts.length && lineStarts[line + 1] <= offset) line++;
    return { ...problem, offset, length, line: line + 1, column: offset - lineStarts[line] + 1 };
  };
  const node = (problem: Omit<SpecProblem, 'offset'>, target: Node): SpecProblem => at(problem, target.offset, target.length);
  /** Points at the value, at its property key, or (for a missing property) at the object that lacks it. */
  const problem = ({ path, message, at: where }: Unlocated, root: Node): SpecProblem => {
    const segments = parsePointer(path);
    const target = where === 'parent' ? segments.slice(0, -1) : segments;
    const found = deepestNode(root, target);
    if (where === 'value' && found.complete) return node({ path, message }, found.node);
    // Keys of properties: the key of the value itself, or of the object missing a property
    // (underlining a whole object would cover most of the file).
    const keyNode = found.node.parent?.type === 'property' ? found.node.parent.children?.[0] : undefined;
    if (keyNode) return node({ path, message }, keyNode);
    return at({ path, message }, found.node.offset, 1);
  };
  return { at, node, problem };
}

function deepestNode(root: Node, pointerSegments: (string | number)[]): { node: Node; complete: boolean } {
  // A pointer's array indices are strings ('/grid/~1seed/1'); jsonc-parser wants numbers for arrays.
  const segments: (string | number)[] = [];
  let at: Node | undefined = root;
  for (const segment of pointerSegments) {
    const index: string | number = at?.type === 'array' && /^\d+$/.test(String(segment)) ? Number(segment) : segment;
    segments.push(index);
    at = at ? findNodeAtLocation(at, [index]) : undefined;
  }
  for (let n = segments.length; n > 0; n--) {
    const node = findNodeAtLocation(root, segments.slice(0, n));
    if (node) return { node, complete: n === segments.length };
  }
  return { node: root, complete: segments.length === 0 };
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

const escapePointer = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * What valid JSON syntax still hides from a schema: keys given twice in one object (the last
 * would silently win) and numbers too large for a double (they would become Infinity).
 */
function treeProblems(node: Node, pointer = ''): { pointer: string; node: Node; message: string }[] {
  const found: { pointer: string; node: Node; message: string }[] = [];
  if (node.type === 'number' && !Number.isFinite(node.value)) {
    found.push({ pointer, node, message: 'number out of range: it does not fit in a 64-bit float' });
  } else if (node.type === 'object') {
    const seen = new Set<string>();
    for (const property of node.children ?? []) {
      const [key, value] = property.children ?? [];
      if (!key) continue;
      const keyPointer = `${pointer}/${escapePointer(String(key.value))}`;
      if (seen.has(key.value)) found.push({ pointer: keyPointer, node: key, message: `duplicate property '${key.value}': only one may be given` });
      seen.add(key.value);
      if (value) found.push(...treeProblems(value, keyPointer));
    }
  } else if (node.type === 'array') {
    (node.children ?? []).forEach((child, i) => found.push(...treeProblems(child, `${pointer}/${i}`)));
  }
  return found;
}

const SYNTAX_MESSAGES: Record<string, string> = {
  InvalidSymbol: 'invalid symbol',
  InvalidNumberFormat: 'invalid number',
  PropertyNameExpected: 'expected a property name in double quotes',
  ValueExpected: 'expected a value',
  ColonExpected: "expected ':'",
  CommaExpected: "expected ','",
  CloseBraceExpected: "expected '}'",
  CloseBracketExpected: "expected ']'",
  EndOfFileExpected: 'expected the end of the file after the JSON object',
  InvalidCommentToken: 'comments are not allowed in experiment files (strict JSON)',
  UnexpectedEndOfComment: 'unterminated comment',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'unterminated number',
  InvalidUnicode: 'invalid unicode escape',
  InvalidEscapeCharacter: 'invalid escape character',
  InvalidCharacter: 'invalid character in string',
};

function syntaxMessage(error: ParseError, text: string): string {
  const code = printParseErrorCode(error.error);
  const found = text.slice(error.offset, error.offset + Math.max(error.length, 1));
  let message = `JSON syntax error: ${SYNTAX_MESSAGES[code] ?? code}`;
  if (code === 'PropertyNameExpected' && found === '}') message += ' (trailing commas are not allowed)';
  else if (code === 'ValueExpected' && (found === '}' || found === ']')) message += ' (trailing commas are not allowed)';
  return message;
}

function sortByPosition(problems: SpecProblem[]): SpecProblem[] {
  return [...problems].sort((a, b) => (a.offset ?? Infinity) - (b.offset ?? Infinity));
}

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

// ---------------------------------------------------------------------------------------------
// Sweep files (`kind: "sweep"`): the file itself, then every member as a train experiment.

export interface ResolvedSweepMember extends SweepMember {
  spec: ResolvedSpec;
}

export interface ParsedSweep {
  sweep?: ResolvedSweep;
  members?: ResolvedSweepMember[];
  problems: SpecProblem[];
}

/** Reads a file named in a sweep (its base), relative to the sweep file; throws with a sentence. */
export type SweepFileReader = (relativePath: string) => string;

/**
 * Validates a sweep file and each of its members. A member's problem is reported where its
 * cause is written: at the grid value that produced it (`/grid/~1task~1m/4`), or in the base,
 * and names the members it affects (`member corelnet.rmts.m98.s0: ...`).
 */
export function parseSweepSpec(text: string, file: string, readFile: SweepFileReader): ParsedSweep {
  const locate = locator(text);
  const parsed = parseObjectTree(text, locate);
  if (!parsed.root) return { problems: parsed.problems };
  const root = parsed.root;
  const written = getNodeValue(root) as Json;
  const problems = treeProblems(root).map(({ pointer, node, message }) => locate.node({ path: pointer, message }, node));
  sweepTopLevelValidator ??= ajv.compile(sweepTopLevelSchema());
  const top = structuredClone(written);
  sweepTopLevelValidator(top);
  problems.push(...explainAjvErrors(sweepTopLevelValidator.errors ?? [], '').map((p) => locate.problem(p, root)));
  if (problems.length > 0) return { problems: sortByPosition(problems) };

  const base = resolveSweepBase(top.base as Json, file, readFile);
  if ('problems' in base) return { problems: base.problems.map((p) => locate.problem(p, root)) };

  const grid = top.grid as Record<string, unknown[]>;
  const exclude = (top.exclude as GridPoint[]) ?? [];
  const scaffold: Json = { formatVersion: top.formatVersion, kind: 'train', ...base.value };
  const structural: Unlocated[] = [];
  for (const key of Object.keys(grid)) {
    const problem = pointerProblem(scaffold, key);
    if (problem) structural.push({ path: `/grid/${escapePointer(key)}`, message: problem, at: 'key' });
  }
  exclude.forEach((exclusion, i) => {
    for (const key of Object.keys(exclusion)) {
      if (!(key in grid)) structural.push({ path: `/exclude/${i}/${escapePointer(key)}`, message: `'${key}' is not a grid key: expected one of ${Object.keys(grid).join(', ')}`, at: 'key' });
    }
  });
  if (structural.length > 0) return { problems: sortByPosition(structural.map((p) => locate.problem(p, root))) };

  const sweep: ResolvedSweep = {
    formatVersion: top.formatVersion as number,
    kind: 'sweep',
    name: top.name as string,
    ...(typeof top.description === 'string' ? { description: top.description } : {}),
    base: base.value,
    ...(base.file !== undefined ? { baseFile: base.file } : {}),
    grid,
    exclude,
    report: top.report as ResolvedSweep['report'],
  };
  // Counted before expanding: a grid of a few lists can name 10^8 members.
  const size = gridSize(grid);
  if (size > MAX_SWEEP_MEMBERS) {
    const lengths = Object.values(grid).map((values) => values.length).join(' x ');
    return { problems: [locate.problem({ path: '/grid', message: `the grid has ${size > 1e15 ? 'more than 10^15' : size} combinations (${lengths}): a sweep has at most ${MAX_SWEEP_MEMBERS} members; split it into several sweeps`, at: 'key' }, root)] };
  }
  const members = sweepMembers(sweep);
  if (members.length === 0) {
    return { problems: [locate.problem({ path: '/exclude', message: 'every combination of the grid is excluded: the sweep has no members', at: 'value' }, root)] };
  }

  // Problems shared by several members are reported once, naming the members.
  const grouped = new Map<string, { problem: Unlocated; labels: string[] }>();
  const resolvedMembers: ResolvedSweepMember[] = [];
  for (const member of members) {
    const experiment = memberExperiment(sweep, member);
    const memberProblems = [
      ...checkTopLevel(experiment),
      // Paths written in the sweep file (inline base or grid) are relative to it; a base file's were resolved when it was read.
      ...COMPONENT_ROLES.flatMap((role) => checkComponent(role, experiment[role], dirname(resolvePath(file)))),
      ...checkKind(experiment),
    ];
    if (memberProblems.length === 0) memberProblems.push(...recordTaskOptions(experiment));
    if (memberProblems.length === 0) resolvedMembers.push({ ...member, spec: inSchemaOrder(experiment) });
    for (const problem of memberProblems) {
      const located = locateMemberProblem(problem, grid, member, base.file !== undefined);
      const key = `${located.path}\n${located.message}`;
      const entry = grouped.get(key) ?? { problem: located, labels: [] };
      entry.labels.push(member.label);
      grouped.set(key, entry);
    }
  }
  for (const { problem, labels } of grouped.values()) {
    const who = labels.length === members.length
      ? 'every member'
      : labels.length === 1
        ? `member ${labels[0]}`
        : `members ${labels.slice(0, 3).join(', ')}${labels.length > 3 ? ` and ${labels.length - 3} more` : ''}`;
    problems.push(locate.problem({ ...problem, message: `${who}: ${problem.message}` }, root));
  }
  if (problems.length > 0) return { problems: sortByPosition(problems) };
  return { sweep, members: resolvedMembers, problems: [] };
}

/** A sweep file expanded and validated: the sweep and every member's resolved spec. */
export type LoadedSweep = { sweep: ResolvedSweep; members: ResolvedSweepMember[] };

/** Reads and validates a sweep file from disk; the base file is read relative to it. */
export function loadSweepFile(file: string): LoadedSweep {
  return sweepFromText(readSpecText(file, 'sweep file'), file);
}

/** A sweep file's text, expanded and validated; the base file is read relative to `file`. */
export function sweepFromText(text: string, file: string): LoadedSweep {
  const readRelative: SweepFileReader = (relative) =>
    readUserFile(resolvePath(dirname(file), relative), 'base experiment', INPUT_LIMITS.specBytes).toString('utf8').replace(/^\uFEFF/, '');
  const { sweep, members, problems } = parseSweepSpec(text, file, readRelative);
  if (!sweep || !members) throw new SpecError(file, problems);
  return { sweep, members };
}

let sweepTopLevelValidator: ValidateFunction | undefined;
let baseFileValidator: ValidateFunction | undefined;

/** The base as an object: written inline, or the experiment file `{ "file": ... }` names (validated on its own first). */
function resolveSweepBase(base: Json, sweepFile: string, readFile: SweepFileReader): { value: Json; file?: string } | { problems: Unlocated[] } {
  if (!('file' in base)) return { value: base };
  baseFileValidator ??= ajv.compile(SWEEP_BASE_FILE_SCHEMA);
  if (!baseFileValidator(base)) {
    return { problems: explainAjvErrors(baseFileValidator.errors ?? [], '/base', 'a base given by file (write the experiment inline instead to set fields here)') };
  }
  const relative = base.file as string;
  let text: string;
  try {
    text = readFile(relative);
  } catch (error) {
    return { problems: [{ path: '/base/file', message: `cannot read the base experiment ${relative} (relative to ${basename(sweepFile)}): ${(error as Error).message}`, at: 'value' }] };
  }
  const { spec, problems } = parseSpec(text, resolvePath(dirname(sweepFile), relative));
  if (!spec) {
    return {
      problems: problems.map((p) => ({
        path: '/base/file',
        message: `${relative}${p.line ? `:${p.line}:${p.column}` : ''}: ${p.path || '/'}: ${p.message}`,
        at: 'value' as const,
      })),
    };
  }
  return { value: withoutRecordedOptions(spec as unknown as Json), file: relative };
}

/**
 * Where a member's problem is written: at the grid value when the problem lies at or under a
 * grid key, otherwise in the base (or at its file name when the base is a file).
 */
/**
 * Where a member's value sits in a grid list, found once per member and key: a member with
 * thousands of problems under one grid value stringified the whole list again for each.
 */
const gridIndices = new WeakMap<SweepMember, Map<string, number>>();
function gridIndex(grid: Record<string, unknown[]>, member: SweepMember, key: string): number {
  let indices = gridIndices.get(member);
  if (!indices) gridIndices.set(member, (indices = new Map()));
  let index = indices.get(key);
  if (index === undefined) {
    index = grid[key].indexOf(member.point[key]); // a member holds the grid's own values
    if (index === -1) {
      const wanted = JSON.stringify(member.point[key]);
      index = grid[key].findIndex((value) => JSON.stringify(value) === wanted);
    }
    indices.set(key, index);
  }
  return index;
}

function locateMemberProblem(problem: Unlocated, grid: Record<string, unknown[]>, member: SweepMember, baseIsFile: boolean): Unlocated {
  const segments = parsePointer(problem.path);
  for (const key of Object.keys(grid)) {
    const keySegments = parsePointer(key);
    const under = keySegments.length <= segments.length && keySegments.every((s, i) => s === segments[i]);
    if (!under) continue;
    const index = gridIndex(grid, member, key);
    const inside = segments.slice(keySegments.length).join('/');
    const message = inside ? `${problem.path}: ${problem.message}` : problem.message;
    return { path: `/grid/${escapePointer(key)}/${index}`, message, at: 'value' };
  }
  if (problem.path === '/name') return { ...problem, message: `member name: ${problem.message}` };
  if (baseIsFile) return { path: '/base/file', message: `${problem.path}: ${problem.message}`, at: 'value' };
  return { ...problem, path: `/base${problem.path}` };
}

/**
 * A SpecError for a problem found after validation (e.g. the memory estimate), located in the
 * file at its pointer; for a sweep member, where its cause is written (a grid value, or the base).
 */
export function specErrorAt(file: string, problem: { path: string; message: string }, member?: { sweep: ResolvedSweep; member: SweepMember }): SpecError {
  let target: Unlocated = { ...problem, at: 'value' };
  if (member) {
    target = locateMemberProblem(target, member.sweep.grid, member.member, member.sweep.baseFile !== undefined);
    target = { ...target, message: `member ${member.member.label}: ${target.message}` };
  }
  let text = '';
  try {
    text = readUserFile(file, 'experiment file', INPUT_LIMITS.specBytes).toString('utf8').replace(/^\uFEFF/, '');
  } catch {
    // Unlocated then: the pointer still says where.
  }
  return new SpecError(file, [locateInText(text, target)]);
}

/** A problem at a JSON pointer, located in an experiment file's text (unlocated when the text does not parse). */
export function locateInText(text: string, problem: { path: string; message: string; at?: Unlocated['at'] }): SpecProblem {
  const root = excessiveNesting(text) === undefined ? parseTree(text) : undefined;
  if (!root) return { path: problem.path, message: problem.message };
  return locator(text).problem({ at: 'value', ...problem }, root);
}
