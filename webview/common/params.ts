/**
 * Hyperparameter table data: resolved specs flattened to dotted keys, and which keys differ
 * between the shown runs. Pure, no DOM.
 */

/**
 * `{ model: { heads: 4 } }` -> `{ 'model.heads': '4' }`. Arrays of plain values stay one cell
 * (`[64,64]`); arrays of objects are indexed (`layers.0.width`). Strings are shown unquoted.
 */
export function flattenToDotted(value: unknown, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (v: unknown, key: string): void => {
    if (Array.isArray(v) && v.some((item) => item !== null && typeof item === 'object')) {
      if (v.length === 0 && key) out[key] = '[]';
      v.forEach((item, i) => visit(item, key ? `${key}.${i}` : String(i)));
    } else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const entries = Object.entries(v as Record<string, unknown>);
      if (entries.length === 0 && key) out[key] = '{}';
      for (const [k, child] of entries) visit(child, key ? `${key}.${k}` : k);
    } else if (key) {
      out[key] = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
    }
  };
  visit(value, prefix);
  return out;
}

export interface ParamTable {
  keys: string[];
  /** One flattened spec per run, same order as the runs given. */
  columns: Record<string, string>[];
  /** Keys whose value is not the same in every run (a key missing in a run counts as different). */
  differing: Set<string>;
}

export function buildParamTable(specs: readonly unknown[]): ParamTable {
  const columns = specs.map((spec) => flattenToDotted(spec));
  // Spec order (first seen), not alphabetical: it follows the experiment file.
  const keys = [...new Set(columns.flatMap((c) => Object.keys(c)))];
  const differing = new Set(
    keys.filter((k) => columns.some((c) => c[k] !== columns[0][k])),
  );
  return { keys, columns, differing };
}
