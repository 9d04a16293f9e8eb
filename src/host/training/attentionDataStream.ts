/**
 * Do several experiments see the same data? Training batches are a function of (seed, step),
 * drawn from the task built with that seed, `batchSize` examples at a time; evaluation batches
 * also depend on `evalBatches`. Two specs with equal seed, task and these training fields train
 * and evaluate on identical examples, whatever their models. (No 'vscode' import: unit-tested.)
 */
import type { ResolvedSpec } from '../../core/spec/types';

type Named = { file: string; spec: Pick<ResolvedSpec, 'seed' | 'task' | 'training'> };

/** One line per field that differs, naming each file's value; empty when the data streams agree. */
export function dataStreamDifferences(specs: readonly Named[]): string[] {
  if (specs.length < 2) return [];
  const fields: Array<[string, (spec: Named['spec']) => unknown]> = [
    ['seed', (spec) => spec.seed],
    ['task', (spec) => spec.task],
    ['training.batchSize', (spec) => spec.training.batchSize],
    ['training.evalBatches', (spec) => spec.training.evalBatches],
  ];
  const lines: string[] = [];
  for (const [field, read] of fields) {
    const values = specs.map(({ spec }) => canonical(read(spec)));
    if (values.every((value) => value === values[0])) continue;
    lines.push(`${field}: ${specs.map(({ file }, i) => `${values[i]} in ${file}`).join(', ')}`);
  }
  return lines;
}

/** JSON with sorted keys: option order in a file does not make two tasks differ. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}
