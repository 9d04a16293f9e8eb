/**
 * The schema VS Code gets for `*.lab.json` (contributes.jsonValidation): derived from the real
 * one (`experimentSchema()`) so that it drives completion and hover but can never fail.
 *
 * Why: VS Code's JSON language service uses one schema both to suggest and to validate, and a
 * file has no switch for "suggest only". Validating there listed every mistake twice (its
 * generic warnings beside Model Lab's located errors, which the extension computes itself while
 * typing with `validate.ts`). So the editor's copy keeps what completion and hover read, and
 * turns every constraint into something that cannot be violated:
 * - documentation, `default`, `examples`, `defaultSnippets` and the object structure stay;
 * - `enum`, `const` and `type` become a suggestion: `anyOf: [{ enum, enumDescriptions, type }, {}]`.
 *   The empty alternative always matches, and the language service still walks `anyOf` for value
 *   completion (names with their descriptions, true/false) and, when the value is one of them,
 *   for the hover of that value;
 * - `oneOf` becomes `anyOf` (alternatives that all match would be "matches multiple schemas");
 * - `if` stays as written (a condition reports nothing; it picks the options of the chosen
 *   model, task or objective); `then`/`else` are derived like any schema;
 * - every other keyword (`required`, `additionalProperties: false`, bounds, patterns, `not`, ...)
 *   is dropped: an allow-list, so a keyword added to the real schema later cannot fail here.
 */
type Schema = Record<string, unknown>;

/** Kept as they are: text and values for completion and hover. None of them validates. */
const DOC_KEYWORDS = [
  '$schema',
  'title',
  'description',
  'markdownDescription',
  'default',
  'examples',
  'defaultSnippets',
  'doNotSuggest',
  'suggestSortText',
  'completionDetail',
] as const;

/** Values the editor suggests; in the real schema they also constrain. */
const SUGGESTION_KEYWORDS = ['enum', 'const', 'type', 'enumDescriptions', 'markdownEnumDescriptions'] as const;
/** Copied into the suggestion too: a suggested value without its own description shows the field's. */
const SUGGESTION_DOCS = ['description', 'markdownDescription'] as const;

/** The editor's copy of a schema: same completion and hover, no way to fail validation. */
export function editorSchema(schema: unknown): Schema {
  if (schema === true || schema === false || typeof schema !== 'object' || schema === null || Array.isArray(schema)) return {};
  const source = schema as Schema;
  const result: Schema = {};
  for (const key of DOC_KEYWORDS) {
    if (source[key] !== undefined) result[key] = source[key];
  }
  for (const key of ['properties', 'patternProperties', 'definitions', '$defs'] as const) {
    const map = source[key];
    if (isPlainObject(map)) result[key] = Object.fromEntries(Object.entries(map).map(([name, value]) => [name, editorSchema(value)]));
  }
  if (isPlainObject(source.additionalProperties)) result.additionalProperties = editorSchema(source.additionalProperties);
  if (Array.isArray(source.items)) result.items = source.items.map(editorSchema);
  else if (isPlainObject(source.items)) result.items = editorSchema(source.items);
  if (source.$ref !== undefined) result.$ref = source.$ref;
  if (source.if !== undefined) {
    result.if = source.if;
    if (source.then !== undefined) result.then = editorSchema(source.then);
    if (source.else !== undefined) result.else = editorSchema(source.else);
  }
  if (Array.isArray(source.allOf)) result.allOf = source.allOf.map(editorSchema);
  const alternatives = [...asArray(source.anyOf), ...asArray(source.oneOf)].map(editorSchema);
  const suggestion = suggestionOf(source);
  if (suggestion) alternatives.push(suggestion);
  // The always-matching alternative: whatever the value, `anyOf` holds.
  if (alternatives.length > 0) result.anyOf = [...alternatives, {}];
  return result;
}

/** `enum`/`const`/`type` with their value descriptions, as one alternative; undefined when none. */
function suggestionOf(source: Schema): Schema | undefined {
  if (source.enum === undefined && source.const === undefined && source.type === undefined) return undefined;
  const suggestion: Schema = {};
  for (const key of [...SUGGESTION_KEYWORDS, ...SUGGESTION_DOCS]) {
    if (source[key] !== undefined) suggestion[key] = source[key];
  }
  return suggestion;
}

const isPlainObject = (value: unknown): value is Schema => typeof value === 'object' && value !== null && !Array.isArray(value);
const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
