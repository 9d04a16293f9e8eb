/**
 * What a thrown value says, whatever was thrown (an Error, a string from a worker, anything):
 * the short message for a person, or the full detail for a log. Pure: the host, the worker, the
 * CLI and the webviews use the same two rules.
 */

/** The message of an unknown thrown value, for a person: never a stack trace. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The stack of an unknown thrown value when it has one (for a log), else its message. */
export function errorDetail(error: unknown): string {
  return error instanceof Error && error.stack ? error.stack : errorMessage(error);
}
