/**
 * Model Lab's problems of experiment files in the Problems panel: one list per file, each
 * mistake once, as an Error at the offending value, in Model Lab's words (validate.ts).
 * - While typing: the open `*.lab.json` documents are checked after a pause (liveSpecProblems.ts);
 *   VS Code's JSON service only suggests and documents (its schema never fails, editorSchema.ts).
 * - On Train: the run-time check's problems (which may add e.g. the memory estimate) replace the
 *   file's list; the next edit replaces them again.
 */
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { SpecError, SpecProblem } from '../../core/spec/types';
import { LiveSpecProblems, trainProblems, type LabDocument } from './liveSpecProblems';
import { errorMessage } from '../../shared/errors';
import type { Log } from '../output';
import { problemMessage, problemRange, textLike, type TextLike } from './specProblems';
import { resolveRunsFolder } from '../runs/runsFolder';
import { workspaceFolderInfos } from '../runs/workspaceFolders';

export const LAB_FILE_SUFFIX = '.lab.json';

export function isLabFile(uri: vscode.Uri): boolean {
  return uri.scheme === 'file' && uri.fsPath.toLowerCase().endsWith(LAB_FILE_SUFFIX);
}

/** An open lab document as the live check sees it. */
interface OpenLabDocument extends LabDocument {
  readonly document: vscode.TextDocument;
}

function openLabDocument(document: vscode.TextDocument): OpenLabDocument {
  return {
    document,
    key: document.uri.toString(),
    file: document.uri.fsPath,
    // VS Code's JSON service reports the syntax errors of `json` documents itself (unless turned off).
    syntaxShownByEditor: document.languageId === 'json' && vscode.workspace.getConfiguration('json', document).get('validate.enable') !== false,
    get runsDir() {
      const where = resolveRunsFolder(document.uri.fsPath, workspaceFolderInfos().folders);
      return where.ok ? where.runsDir : undefined;
    },
    getText: () => document.getText(),
  };
}

export class SpecDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('model-lab');
  private readonly live: LiveSpecProblems<OpenLabDocument>;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(log?: Log) {
    this.live = new LiveSpecProblems<OpenLabDocument>(
      {
        set: (lab, problems) => this.set(lab.document.uri, problems, lab.document),
        delete: (lab) => this.collection.delete(lab.document.uri),
      },
      { onError: (error) => log?.('warn', `Checking an experiment file while typing failed: ${errorMessage(error)}`) },
    );
    const changed = (document: vscode.TextDocument) => {
      if (isLabFile(document.uri)) this.live.changed(openLabDocument(document));
    };
    this.subscriptions.push(
      vscode.workspace.onDidOpenTextDocument(changed),
      vscode.workspace.onDidChangeTextDocument((event) => {
        if (event.contentChanges.length > 0) changed(event.document);
      }),
      vscode.workspace.onDidCloseTextDocument((document) => {
        if (isLabFile(document.uri)) this.live.closed(openLabDocument(document));
      }),
    );
    for (const document of vscode.workspace.textDocuments) changed(document);
  }

  /** Shows the problems of a failed load (e.g. Train on a file with errors), in place of the file's list. */
  async showSpecError(error: SpecError): Promise<void> {
    const uri = vscode.Uri.file(error.file);
    const open = vscode.workspace.textDocuments.find((doc) => doc.uri.fsPath === uri.fsPath);
    let doc: TextLike;
    if (open) {
      doc = open;
    } else {
      try {
        doc = textLike(readFileSync(error.file, 'utf8').replace(/^\uFEFF/, ''));
      } catch {
        doc = textLike('');
      }
    }
    this.live.trained((open?.uri ?? uri).toString());
    this.set(uri, trainProblems(error.problems, open && openLabDocument(open)), doc);
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    this.live.dispose();
    this.collection.dispose();
  }

  private set(uri: vscode.Uri, problems: readonly SpecProblem[], doc: TextLike): void {
    this.collection.set(
      uri,
      problems.map((problem) => {
        const { start, end } = problemRange(problem, doc);
        const diagnostic = new vscode.Diagnostic(
          new vscode.Range(start.line, start.character, end.line, end.character),
          problemMessage(problem),
          vscode.DiagnosticSeverity.Error,
        );
        diagnostic.source = 'Model Lab';
        return diagnostic;
      }),
    );
  }
}
