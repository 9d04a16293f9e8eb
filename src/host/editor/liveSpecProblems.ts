/**
 * Model Lab's problems of the open experiment files, kept up to date while the user types: the
 * real validator (validate.ts) runs on a document 300 ms after its last change, on open, and its
 * located problems replace that document's entries; closing the document clears them; Train's
 * problems replace them too (never add). One list per file, one entry per mistake.
 *
 * The extension host must stay responsive, so the check is debounced and bounded: a document past
 * LIVE_CHECK_MAX_CHARS, or a sweep of more than LIVE_CHECK_MAX_SWEEP_MEMBERS members (each member
 * is validated as a whole experiment), is not checked while typing; its entries are cleared on
 * change and Train reports its problems. Measured on a 2-core machine: the broken example 4 ms,
 * a 150-member sweep 85 ms, 256 KiB of unknown keys (the worst case at the cap) 140 ms.
 *
 * JSON syntax errors of a `json` document are left to VS Code's JSON service, which reports each
 * of them as an error at the spot while typing; reporting them here too would list them twice.
 *
 * No 'vscode' import: the host (diagnostics.ts) feeds documents in and publishes what comes out.
 */
import { dirname, resolve as resolvePath } from 'node:path';
import { findNodeAtLocation, parseTree, type ParseError } from 'jsonc-parser';
import { isSweepText, locateInText, parseSpec, parseSweepSpec, type SweepFileReader } from '../../core/spec/validate';
import { findInitRun } from '../../runs/initRun';
import type { SpecProblem } from '../../core/spec/types';
import { INPUT_LIMITS, readUserFile } from '../../core/userFiles';
import { Debouncer, type Timers } from './debouncer';

export const LIVE_CHECK_DELAY_MS = 300;
/** Lab files are a few KB. */
export const LIVE_CHECK_MAX_CHARS = 256 * 1024;
export const LIVE_CHECK_MAX_SWEEP_MEMBERS = 150;

/** What the live check needs of an open document (vscode.TextDocument has all of it). */
export interface LabDocument {
  /** Identity of the document (its URI as a string). */
  readonly key: string;
  /** Path on disk: the validator resolves relative paths (object folders, a sweep's base file) against it. */
  readonly file: string;
  /** True when VS Code's JSON service reports this document's syntax errors (language `json`, validation on). */
  readonly syntaxShownByEditor: boolean;
  /** The runs folder the file trains into, when it has one: an `init` is looked up there while typing. */
  readonly runsDir?: string;
  getText(): string;
}

/** Where the problems go (the host's DiagnosticCollection). */
export interface ProblemSink<D extends LabDocument> {
  set(document: D, problems: readonly SpecProblem[]): void;
  delete(document: D): void;
}

/**
 * The problems Model Lab lists for a document's text, or undefined when it is too much to check
 * while typing (past the size or sweep member cap).
 */
export function liveSpecProblems(document: LabDocument, text = document.getText()): SpecProblem[] | undefined {
  if (text.length > LIVE_CHECK_MAX_CHARS) return undefined;
  if (document.syntaxShownByEditor && hasJsonSyntaxErrors(text)) return [];
  if (!isSweepText(text)) return withInitProblem(parseSpec(text, document.file), text, document.runsDir);
  if (sweepMemberCount(text) > LIVE_CHECK_MAX_SWEEP_MEMBERS) return undefined;
  return parseSweepSpec(text, document.file, baseFileReader(document.file)).problems;
}

/**
 * A valid experiment's `init` looked up in its runs folder (the run, its state, the checkpoint
 * step: what the folder alone says; whether the weights fit is Train's check, a worker's job).
 */
function withInitProblem({ spec, problems }: ReturnType<typeof parseSpec>, text: string, runsDir: string | undefined): SpecProblem[] {
  if (!spec?.init || runsDir === undefined) return problems;
  const found = findInitRun(runsDir, spec.init);
  return 'message' in found ? [locateInText(text, found)] : problems;
}

/**
 * Problems reported by Train (the whole run-time check), as the editor lists them: without the
 * syntax errors VS Code's JSON service already lists for an open document.
 */
export function trainProblems(problems: readonly SpecProblem[], open: LabDocument | undefined): readonly SpecProblem[] {
  if (open?.syntaxShownByEditor && hasJsonSyntaxErrors(open.getText())) return [];
  return problems;
}

/** Strict JSON, as VS Code's JSON service reads a `json` document (comments and trailing commas are errors). */
export function hasJsonSyntaxErrors(text: string): boolean {
  if (text.trim() === '') return false; // the service says nothing about an empty file; the validator does
  const errors: ParseError[] = [];
  parseTree(text, errors, { disallowComments: true, allowTrailingComma: false });
  return errors.length > 0;
}

/** Members of a sweep's grid (the product of its value lists), counted before expanding any. */
function sweepMemberCount(text: string): number {
  const grid = findNodeAtLocation(parseTree(text) ?? { type: 'null', offset: 0, length: 0 }, ['grid']);
  if (grid?.type !== 'object') return 0;
  return (grid.children ?? []).reduce((product, property) => {
    const values = property.children?.[1];
    return product * (values?.type === 'array' ? (values.children?.length ?? 0) : 1);
  }, 1);
}

/** A sweep's base file, read from disk relative to the sweep, as Train reads it. */
function baseFileReader(sweepFile: string): SweepFileReader {
  return (relative) =>
    readUserFile(resolvePath(dirname(sweepFile), relative), 'base experiment', INPUT_LIMITS.specBytes).toString('utf8').replace(/^\uFEFF/, '');
}

/** The debounced check of open documents, and Train's problems in the same list. */
export class LiveSpecProblems<D extends LabDocument> {
  private readonly checks: Debouncer<string>;

  constructor(
    private readonly sink: ProblemSink<D>,
    private readonly options: { delayMs?: number; timers?: Timers; onError?: (error: unknown) => void } = {},
  ) {
    this.checks = new Debouncer(options.delayMs ?? LIVE_CHECK_DELAY_MS, options.timers);
  }

  /** A document was opened or changed: check it once the user pauses. */
  changed(document: D): void {
    this.checks.schedule(document.key, () => this.check(document));
  }

  closed(document: D): void {
    this.checks.cancel(document.key);
    this.sink.delete(document);
  }

  /** Train's problems replace the document's list: a pending check would only repeat them. */
  trained(key: string): void {
    this.checks.cancel(key);
  }

  dispose(): void {
    this.checks.dispose();
  }

  private check(document: D): void {
    let problems: SpecProblem[] | undefined;
    try {
      problems = liveSpecProblems(document);
    } catch (error) {
      // A validator bug must not take the extension host's timer down; Train reports it in full.
      this.options.onError?.(error);
      problems = undefined;
    }
    if (problems === undefined) this.sink.delete(document);
    else this.sink.set(document, problems);
  }
}
