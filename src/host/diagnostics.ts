/**
 * Problems that Train finds in an experiment file, shown in the Problems panel at the offending
 * value. While the user edits, VS Code's JSON service already validates `*.lab.json` against our
 * schema (contributes.jsonValidation), so we do not validate live as well: every problem would
 * be listed twice. What only the run-time check knows appears when Train is pressed, and is
 * cleared as soon as the file changes.
 */
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { SpecError, SpecProblem } from '../core/spec/types';
import { problemMessage, problemRange, textLike, type TextLike } from './specProblems';

export const LAB_FILE_SUFFIX = '.lab.json';

export function isLabFile(uri: vscode.Uri): boolean {
  return uri.scheme === 'file' && uri.fsPath.toLowerCase().endsWith(LAB_FILE_SUFFIX);
}

export class SpecDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('model-lab');
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor() {
    this.subscriptions.push(
      vscode.workspace.onDidChangeTextDocument((event) => this.collection.delete(event.document.uri)),
      vscode.workspace.onDidCloseTextDocument((doc) => this.collection.delete(doc.uri)),
    );
  }

  /** Shows the problems of a failed load (e.g. Train on a file with errors). */
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
    this.set(uri, error.problems, doc);
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
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
