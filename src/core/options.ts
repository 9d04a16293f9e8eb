/**
 * Option schemas written once (TypeBox): each schema IS the JSON schema that the validator, the
 * generated dist/experiment.schema.json and VS Code read, and `Static<typeof schema>` is the
 * TypeScript type of the options a factory receives. No second interface, no casts.
 *
 * One convention joins the two views: a field with a `default` may be left out of a file, but the
 * validator fills it in, so a factory always sees it. `componentOptions` therefore types such a
 * field as present while leaving it out of the schema's `required`. `Type.Optional(...)` marks a
 * field that can really be absent (no default, or a field that older run specs lack).
 * Pure: no TensorFlow.js, no vscode (the extension host bundles it).
 */
import { Type, type Static, type TObject, type TProperties, type TUnsafe } from '@sinclair/typebox';

export { Type, type Static };

/** The options object of one task, model or objective (`name` excluded: the schema adds it). */
export function componentOptions<P extends TProperties>(properties: P): TObject<P> {
  const schema = Type.Object(withTypeFirst(properties));
  const required = ((schema.required ?? []) as string[]).filter((key) => (properties[key] as { default?: unknown }).default === undefined);
  const { required: _all, ...rest } = schema;
  // Spread keeps TypeBox's symbol keys (its own bookkeeping; JSON and Ajv never see them).
  return (required.length > 0 ? { ...rest, required } : rest) as TObject<P>;
}

/**
 * Each field's `type` (and an array's `items`) first, as the schemas were written before TypeBox
 * (which puts them after the options): dist/experiment.schema.json stays byte for byte the same.
 */
function withTypeFirst<P extends TProperties>(properties: P): P {
  const reordered = Object.entries(properties).map(([key, field]) => {
    const { type, items, ...rest } = field as { type?: unknown; items?: unknown };
    return [key, { ...(type !== undefined ? { type } : {}), ...(items !== undefined ? { items } : {}), ...rest }];
  });
  return Object.fromEntries(reordered) as P;
}

/**
 * One of a few strings, written as JSON schema's plain `enum` (as the schemas always were: an
 * `anyOf` of constants would change the validator's messages), typed as their union.
 */
export function stringEnum<const V extends readonly string[]>(
  values: V,
  options: { default?: V[number]; description?: string } = {},
): TUnsafe<V[number]> {
  return Type.Unsafe<V[number]>({ enum: [...values], ...options });
}
