/**
 * Hostile replacements for one value of a JSON document, chosen from what its schema says the
 * value should be: the wrong type, just outside its range, numbers a double or a safe integer
 * cannot hold, text that is not JSON (NaN, Infinity), deep nesting, very long strings and arrays,
 * thousands of unknown keys.
 *
 * A replacement is a small description (it shrinks well and prints short in a failure report)
 * that `hostileText` turns into JSON text. The text is spliced into the document where the value
 * was (`spliceRaw`), so it can be what JSON.stringify never writes: `1e400`, `NaN`, 100,000 nested
 * brackets.
 */
import fc from 'fast-check';

export type Schema = Record<string, unknown>;

export type Hostile =
  | { kind: 'wrong-type'; as: 'string' | 'number' | 'boolean' | 'null' | 'array' | 'object' }
  | { kind: 'edge'; which: 'below-minimum' | 'above-maximum' | 'fraction' | 'zero' | 'negative' | 'other-enum' | 'enum-case' | 'empty-string' }
  | { kind: 'number'; text: string }
  | { kind: 'not-json'; text: string }
  | { kind: 'deep'; depth: number; as: 'array' | 'object' }
  | { kind: 'long-string'; length: number }
  | { kind: 'long-array'; length: number }
  | { kind: 'many-keys'; count: number };

/** Numbers valid in JSON that no field should take as they are (or that parse to something else). */
const HOSTILE_NUMBERS = [
  '9007199254740992', // 2^53: the first integer a double cannot tell from its neighbour
  '9007199254740993',
  '18446744073709551616', // 2^64
  '123456789012345678901234567890',
  '1e21',
  '1e308',
  '-1e308',
  '1.7976931348623157e308',
  '1e400', // Infinity once parsed
  '-1e400',
  '5e-324',
  '1e-400', // 0 once parsed
  '-0',
  '2147483648', // 2^31
  '4294967296', // 2^32
  '-2147483649',
];

/** Things people (and other tools) write for numbers that are not JSON at all. */
const NOT_JSON = ['NaN', 'Infinity', '-Infinity', 'undefined', '0x10', '1e', '.5', '+1', '01', "'a'", '"\\ud800"', '"\\u0000"'];

/**
 * A log-uniform size in [1, max]: as many cases between 10 and 100 as between 10,000 and 100,000,
 * so huge values come up regularly without making every case slow (no bias towards the bounds).
 */
export const logSize = (max: number): fc.Arbitrary<number> =>
  fc.noBias(fc.integer({ min: 0, max: 1000 })).map((step) => Math.max(1, Math.round(max ** (step / 1000))));

export function hostileValue(limits: { depth: number; string: number; array: number; keys: number }): fc.Arbitrary<Hostile> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('string', 'number', 'boolean', 'null', 'array', 'object').map((as) => ({ kind: 'wrong-type', as }) as const) },
    {
      weight: 4,
      arbitrary: fc
        .constantFrom('below-minimum', 'above-maximum', 'fraction', 'zero', 'negative', 'other-enum', 'enum-case', 'empty-string')
        .map((which) => ({ kind: 'edge', which }) as const),
    },
    { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_NUMBERS).map((text) => ({ kind: 'number', text }) as const) },
    { weight: 1, arbitrary: fc.constantFrom(...NOT_JSON).map((text) => ({ kind: 'not-json', text }) as const) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('deep' as const), depth: logSize(limits.depth), as: fc.constantFrom('array' as const, 'object' as const) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('long-string' as const), length: logSize(limits.string) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('long-array' as const), length: logSize(limits.array) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('many-keys' as const), count: logSize(limits.keys) }) },
  );
}

const numberOr = (value: unknown, fallback: number): number => (typeof value === 'number' ? value : fallback);

/**
 * The JSON text of a hostile value for a field whose schema is `schema` (if known) and whose
 * current value is `current` (a long array repeats its first element, so a grid list stays a
 * list of plausible values and only its length is hostile).
 */
export function hostileText(hostile: Hostile, schema: Schema | undefined, current: unknown): string {
  const isInteger = schema?.type === 'integer';
  const enumValues = Array.isArray(schema?.enum) ? (schema.enum as unknown[]) : [];
  switch (hostile.kind) {
    case 'wrong-type':
      return { string: '"fuzz"', number: '7', boolean: 'true', null: 'null', array: '[1]', object: '{"x":1}' }[hostile.as];
    case 'edge':
      switch (hostile.which) {
        case 'below-minimum':
          if (typeof schema?.exclusiveMinimum === 'number') return String(schema.exclusiveMinimum);
          return String(numberOr(schema?.minimum, 0) - (isInteger ? 1 : 1e-9));
        case 'above-maximum':
          if (typeof schema?.exclusiveMaximum === 'number') return String(schema.exclusiveMaximum);
          return String(numberOr(schema?.maximum, 1e9) + (isInteger ? 1 : 1e-9));
        case 'fraction':
          return String(numberOr(schema?.minimum, 0) + 0.5);
        case 'zero':
          return '0';
        case 'negative':
          return '-1';
        case 'other-enum':
          return JSON.stringify(enumValues.find((v) => v !== current) ?? current ?? null);
        case 'enum-case':
          return JSON.stringify(typeof current === 'string' ? ` ${current.toUpperCase()}` : String(current));
        case 'empty-string':
          return '""';
      }
      break;
    case 'number':
    case 'not-json':
      return hostile.text;
    case 'deep':
      return hostile.as === 'array' ? '['.repeat(hostile.depth) + ']'.repeat(hostile.depth) : '{"a":'.repeat(hostile.depth) + '1' + '}'.repeat(hostile.depth);
    case 'long-string':
      return `"${'x\u00e9'.repeat(Math.ceil(hostile.length / 2)).slice(0, hostile.length)}"`;
    case 'long-array': {
      const item = JSON.stringify(Array.isArray(current) && current.length > 0 ? current[0] : 0);
      return `[${Array.from({ length: hostile.length }, () => item).join(',')}]`;
    }
    case 'many-keys':
      return `{${Array.from({ length: hostile.count }, (_, i) => `"unknown${i}":${i}`).join(',')}}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Documents: every value with its JSON pointer and schema, and one change spliced in as text.

export type Segment = string | number;

export interface Slot {
  path: Segment[];
  value: unknown;
  schema: Schema | undefined;
}

/** The schema of `value`'s child `key`, following properties, items, additionalProperties and the
 *  `if name === X then ...` branches the editor schema uses for a component's options. */
export function childSchema(schema: Schema | undefined, value: unknown, key: Segment): Schema | undefined {
  if (!schema) return undefined;
  if (typeof key === 'number') return typeof schema.items === 'object' ? (schema.items as Schema) : undefined;
  const branches: Schema[] = [schema];
  for (const option of (schema.anyOf as Schema[] | undefined) ?? []) branches.push(option);
  for (const item of (schema.allOf as Schema[] | undefined) ?? []) {
    const condition = (item.if as Schema | undefined)?.properties as Record<string, Schema> | undefined;
    const wanted = condition?.name?.const;
    if (wanted !== undefined && (value as Record<string, unknown> | null)?.name === wanted) branches.push(item.then as Schema);
  }
  for (const branch of branches) {
    const property = (branch.properties as Record<string, Schema> | undefined)?.[key];
    if (property) return property;
  }
  for (const branch of branches) if (typeof branch.additionalProperties === 'object') return branch.additionalProperties as Schema;
  return undefined;
}

/** The property names a schema knows for an object value (for adding a missing optional field). */
export function knownKeys(schema: Schema | undefined, value: unknown): string[] {
  if (!schema) return [];
  const keys = new Set(Object.keys((schema.properties as Schema | undefined) ?? {}));
  for (const item of (schema.allOf as Schema[] | undefined) ?? []) {
    const wanted = ((item.if as Schema | undefined)?.properties as Record<string, Schema> | undefined)?.name?.const;
    if (wanted !== undefined && (value as Record<string, unknown> | null)?.name === wanted) {
      for (const key of Object.keys(((item.then as Schema).properties as Schema | undefined) ?? {})) keys.add(key);
    }
  }
  return [...keys];
}

/** Every value of the document (root excluded), depth first, with its schema. */
export function slotsOf(document: unknown, schema: Schema | undefined): Slot[] {
  const slots: Slot[] = [];
  const visit = (value: unknown, valueSchema: Schema | undefined, path: Segment[]) => {
    const children: [Segment, unknown][] = Array.isArray(value)
      ? value.map((child, i) => [i, child])
      : typeof value === 'object' && value !== null
        ? Object.entries(value)
        : [];
    for (const [key, child] of children) {
      const nested = childSchema(valueSchema, value, key);
      slots.push({ path: [...path, key], value: child, schema: nested });
      visit(child, nested, [...path, key]);
    }
  };
  visit(document, schema, []);
  return slots;
}

export const pointerOf = (path: readonly Segment[]): string =>
  path.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');

const RAW = '\u0000fuzz-raw\u0000';

/**
 * `document` as JSON text with the value at `path` replaced by `raw` text (or removed when `raw`
 * is undefined). `addMembers` adds raw members (`"key": value` text) to the object at `path` instead.
 */
export function spliceRaw(document: unknown, path: readonly Segment[], change: { raw?: string; addMembers?: string }): string {
  const copy = structuredClone(document) as Record<string | number, unknown>;
  let parent: Record<string | number, unknown> = copy;
  const target = change.addMembers !== undefined ? path : path.slice(0, -1);
  for (const segment of target) parent = parent[segment] as Record<string | number, unknown>;
  if (change.addMembers !== undefined) {
    (parent as Record<string, unknown>)[RAW] = RAW;
    return JSON.stringify(copy, null, 2).replace(`${JSON.stringify(RAW)}: ${JSON.stringify(RAW)}`, () => change.addMembers!);
  }
  const key = path[path.length - 1];
  if (change.raw === undefined) {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
    return JSON.stringify(copy, null, 2);
  }
  parent[key] = RAW;
  return JSON.stringify(copy, null, 2).replace(JSON.stringify(RAW), () => change.raw!);
}
