/**
 * Something to release: the shape of `vscode.Disposable`, for code that must not import
 * 'vscode' (the run registry, the panels' data sources, the protocol's channels).
 */
export interface Disposable {
  dispose(): void;
}
