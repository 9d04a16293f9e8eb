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

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

