/**
 * What every fuzz case must end in: a valid result, or a located error. A located error is an
 * Error the code threw on purpose (not a TypeError, RangeError, SyntaxError... escaping from deep
 * inside), whose message names the file or field at fault and stays short enough to read.
 *
 * A broken case throws a CaseFailure: `kind` says what went wrong in a few stable words (the
 * same defect hit by many inputs has one kind, so a survey can count defects, not inputs).
 */
import { AssertionError } from 'node:assert';

/** Errors the JavaScript engine throws by itself: reaching the user, they are crashes. */
const ENGINE_ERRORS: readonly (new (...args: never[]) => Error)[] = [TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError];

/** Longest message accepted: enough for ~20 problems with their locations, not a 20 MB echo. */
export const MAX_MESSAGE_CHARS = 16_000;

export class CaseFailure extends AssertionError {
  constructor(
    readonly kind: string,
    detail: string,
  ) {
    super({ message: `${kind}\n${detail}` });
  }
}

export function fail(kind: string, detail = ''): never {
  throw new CaseFailure(kind, detail);
}

const excerpt = (text: string, max = 600): string => (text.length > max ? `${text.slice(0, max)}... (${text.length} chars)` : text);

/** The error's stack, short: where a crash came from. */
export const describeError = (error: unknown): string =>
  error instanceof Error ? excerpt(error.stack ?? `${error.name}: ${error.message}`, 1500) : `a thrown ${typeof error}: ${excerpt(String(error))}`;

/** Where a crash happened, for its kind: the first source file or package of its stack. */
function origin(error: Error): string {
  for (const line of (error.stack ?? '').split('\n')) {
    const source = /\/(src\/[^:]+)/.exec(line);
    if (source) return source[1];
    const dependency = /\/node_modules\/((@[^/]+\/)?[^/]+)/.exec(line);
    if (dependency) return dependency[1];
  }
  return 'an unknown place';
}

/** What the engine's own errors say: text holding one is a crash caught and passed on as a message. */
const ENGINE_MESSAGES = /Maximum call stack size exceeded|Cannot read properties of|is not a function|is not iterable|Invalid string length|Invalid array length|Cannot convert undefined|out of memory/;

/**
 * An error reported as text (a run summary's `error`): short, naming one of `names`, and not an
 * engine error that a reader caught and passed on.
 */
export function assertLocatedText(text: string, names: readonly string[], what: string): void {
  const crash = ENGINE_MESSAGES.exec(text);
  if (crash) fail(`crash reported as text: ${crash[0]}`, `${what}: ${excerpt(text)}`);
  if (text.length > MAX_MESSAGE_CHARS) fail(`an error text over ${MAX_MESSAGE_CHARS} characters`, `${what}: ${text.length} characters: ${excerpt(text)}`);
  if (!names.some((name) => text.includes(name))) fail(`an error text naming no file (${text.replace(/\d+/g, 'N').slice(0, 60)})`, `${what}: ${excerpt(text)}`);
}

/**
 * `error` is a located error: an Error of the code's own making whose message names one of
 * `names` (a file path, a file name, a field) and is at most MAX_MESSAGE_CHARS long. `what` says
 * what was being done, for the report.
 */
export function assertLocatedError(error: unknown, names: readonly string[], what: string): void {
  if (error instanceof AssertionError) throw error;
  if (!(error instanceof Error)) fail(`threw a non-Error (${typeof error})`, `${what}: ${describeError(error)}`);
  if (ENGINE_ERRORS.some((type) => error instanceof type) || /^(Type|Range|Syntax|Reference)Error/.test(error.name)) {
    fail(`crash: ${error.name}: ${error.message.replace(/\d+/g, 'N').slice(0, 80)} at ${origin(error)}`, `${what}: ${describeError(error)}`);
  }
  if (ENGINE_MESSAGES.test(error.message)) fail(`crash passed on in a ${error.name}: ${ENGINE_MESSAGES.exec(error.message)![0]}`, `${what}: ${describeError(error)}`);
  if (error.message.length > MAX_MESSAGE_CHARS) {
    fail(`a ${error.name} message over ${MAX_MESSAGE_CHARS} characters`, `${what}: ${error.message.length} characters: ${excerpt(error.message)}`);
  }
  if (!names.some((name) => error.message.includes(name))) {
    fail(`a ${error.name} naming no file or field (${error.message.replace(/\d+/g, 'N').slice(0, 60)})`, `${what}: names none of ${names.map((n) => `'${n}'`).join(', ')}: ${describeError(error)}`);
  }
}
