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

/** Why looking inside a run (loading its checkpoints in a worker) waits for workspace trust. */
export const SESSIONS_NEED_TRUST =
  "a run's checkpoints are loaded and run in a worker, and a run folder that came with this workspace is untrusted input. Trust the workspace to look inside its runs.";

/** For the commands that open a lab panel on a run: runs are listed in Restricted Mode, not opened. */
export function ensureTrustedToLookInside(): boolean {
  return ensureTrusted('look inside runs', SESSIONS_NEED_TRUST);
}
