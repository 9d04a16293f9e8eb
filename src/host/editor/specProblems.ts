/**
 * Where a `SpecProblem` goes in the editor: offsets (or 1-based line/column) of the validator
 * turned into a 0-based range of a document. No 'vscode' import: `vscode.TextDocument`
 * satisfies `TextLike`, and `textLike()` builds one from plain text.
 */
import type { SpecProblem } from '../../core/spec/types';

export interface PlainPosition {
  line: number;
  character: number;
}

export interface PlainRange {
  start: PlainPosition;
  end: PlainPosition;
}

/** The part of `vscode.TextDocument` we need. */
export interface TextLike {
  readonly lineCount: number;
  positionAt(offset: number): PlainPosition;
  lineAt(line: number): { readonly text: string };
}

export function problemRange(problem: SpecProblem, doc: TextLike): PlainRange {
  if (problem.offset !== undefined && problem.offset >= 0) {
    const start = doc.positionAt(problem.offset);
    const end = doc.positionAt(problem.offset + Math.max(problem.length ?? 0, 0));
    return { start: copy(start), end: copy(end) };
  }
  if (problem.line !== undefined && problem.line >= 1) {
    const line = Math.min(problem.line - 1, Math.max(doc.lineCount - 1, 0));
    const text = doc.lineAt(line).text;
    const character = Math.min(Math.max((problem.column ?? 1) - 1, 0), text.length);
    return { start: { line, character }, end: { line, character: text.length } };
  }
  // Not located (e.g. the file could not be read): the first line, so the problem is still listed.
  const first = doc.lineCount > 0 ? doc.lineAt(0).text.length : 0;
  return { start: { line: 0, character: 0 }, end: { line: 0, character: first } };
}

/** The message shown in the Problems panel: the JSON pointer first, so the field is obvious. */
export function problemMessage(problem: SpecProblem): string {
  return problem.path ? `${problem.path}: ${problem.message}` : problem.message;
}

/** A `TextLike` over plain text (for files that are not open in an editor). */
export function textLike(text: string): TextLike {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\n') lineStarts.push(i + 1);
  }
  const lineText = (line: number): string => {
    const start = lineStarts[line];
    const next = line + 1 < lineStarts.length ? lineStarts[line + 1] : text.length;
    return text.slice(start, next).replace(/\r?\n$/, '');
  };
  return {
    lineCount: lineStarts.length,
    lineAt: (line) => ({ text: lineText(Math.min(Math.max(line, 0), lineStarts.length - 1)) }),
    positionAt(offset) {
      const clamped = Math.min(Math.max(offset, 0), text.length);
      let line = 0;
      while (line + 1 < lineStarts.length && lineStarts[line + 1] <= clamped) line++;
      return { line, character: Math.min(clamped - lineStarts[line], lineText(line).length) };
    },
  };
}

function copy(position: PlainPosition): PlainPosition {
  return { line: position.line, character: position.character };
}
