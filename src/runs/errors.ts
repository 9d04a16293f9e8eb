/** Errors of the run store: located by file (and line when known), and the helpers that read Node's. */

/** A problem with a file of the run store, located by file (and line when known). */
export class RunFileError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
    readonly line?: number,
  ) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${detail}`);
    this.name = 'RunFileError';
  }
}

export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * A value read from a run folder, for an error message: short whatever it is. A run folder is
 * untrusted input: a value can be megabytes long, or nested deeper than JSON.stringify recurses.
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const items = Array.isArray(value) ? value : typeof value === 'object' && value !== null ? Object.values(value) : undefined;
  const small = !items || (items.length <= 8 && items.every((item) => typeof item !== 'object' || item === null));
  if (!small) return Array.isArray(value) ? `a list of ${items!.length} items` : `an object of ${items!.length} fields`;
  const text = JSON.stringify(value); // at most 8 plain values: no deep recursion
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export { errorMessage } from '../shared/errors';

