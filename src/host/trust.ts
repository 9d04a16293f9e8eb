/**
 * Workspace trust: experiment files decide what runs and which files are read or written, so
 * Model Lab acts on them only in a trusted workspace, and says how to trust it otherwise.
 */
import * as vscode from 'vscode';

/** True in a trusted workspace; otherwise warns that `action` needs trust (`why`) and offers to manage it. */
export function ensureTrusted(action: string, why: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window
    .showWarningMessage(`Model Lab cannot ${action} in Restricted Mode: ${why}`, 'Manage Workspace Trust')
    .then((choice) => choice && vscode.commands.executeCommand('workbench.trust.manage'));
  return false;
}
