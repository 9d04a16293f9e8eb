/**
 * Bounds on what an experiment file may ask for and on what a message about it may echo, so
 * that a hostile or mistaken file gives a short located error instead of a crash, a hang or
 * megabytes of output (all documented in README, "Limits").
 */

/** Nesting of objects and arrays in a spec file; real files nest 4 deep. Checked on the text. */
export const MAX_NESTING_DEPTH = 64;

/** Problems kept per file (the rest are counted), and listed in one message. */
export const MAX_KEPT_PROBLEMS = 100;
export const MAX_LISTED_PROBLEMS = 20;

/** Characters of a user's value or key echoed in a message. */
export const MAX_ECHOED_CHARS = 60;

/** Experiment names (`name`) and sweep names: they become folder names (255 bytes at most). */
export const MAX_EXPERIMENT_NAME_LENGTH = 200;
export const MAX_SWEEP_NAME_LENGTH = 100;

/** `text` cut to `max` characters with an ellipsis and the full length, for messages. */
export function shorten(text: string, max = MAX_ECHOED_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}... (${text.length} characters)`;
}

/**
 * The offset where objects and arrays nest deeper than `maxDepth`, or undefined. Scanned on the
 * text (strings skipped) because the JSON parser and everything after it recurse per level: a
 * 100000-deep file would overflow the stack before any error could be located.
 */
export function excessiveNesting(text: string, maxDepth = MAX_NESTING_DEPTH): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > maxDepth) return i;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth = Math.max(0, depth - 1);
    }
  }
  return undefined;
}

/** One message for many problems: the first MAX_LISTED_PROBLEMS lines, then "and N more". */
export function listProblems(lines: readonly string[], max = MAX_LISTED_PROBLEMS): string {
  if (lines.length <= max) return lines.join('\n');
  return [...lines.slice(0, max), `... and ${lines.length - max} more problems`].join('\n');
}
