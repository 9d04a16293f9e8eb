/** "▶ Train" above every experiment file. */
import * as vscode from 'vscode';

export function registerTrainCodeLens(): vscode.Disposable {
  const provider: vscode.CodeLensProvider = {
    provideCodeLenses(document) {
      const top = new vscode.Range(0, 0, 0, 0);
      return [
        new vscode.CodeLens(top, {
          title: '$(play) Train',
          tooltip: 'Train this experiment (Model Lab)',
          command: 'modelLab.train',
          arguments: [document.uri],
        }),
      ];
    },
  };
  return vscode.languages.registerCodeLensProvider({ scheme: 'file', pattern: '**/*.lab.json' }, provider);
}
