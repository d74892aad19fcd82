// Activation: wires the core to VS Code. Everything here is an adapter; the work is in src/core.
import * as vscode from 'vscode';
import { DatasetsTreeProvider } from './datasetsTree';
import { CurationEditorProvider } from './curationEditor';
import { registerCommands } from './commands';
import { registerGenerateCommands } from './generateCommands';
import { registerJobCommands } from './jobs';
import { registerGitCommands } from './gitCommands';
import { registerLeakageLint } from './leakage';
import { registerConflictFixes } from './conflictFixes';
import { Log } from './log';
import { registerTextFeatures } from './textFeatures';
import { registerSecretCommands } from './settings';
import { registerWalkthroughCommands } from './walkthrough';
import { ParquetPreviewProvider } from './parquetPreview';
import { registerBatchJobs, type BatchJobsApi } from './batchJobs';

/** What the extension exports: used by the integration tests and by other extensions. */
export interface DatasetCuratorApi {
  readonly datasets: DatasetsTreeProvider;
  readonly editors: CurationEditorProvider;
  /** Batch jobs: those being polled, and picking up unfinished ones (done on activation). */
  readonly batches: BatchJobsApi;
}

export function activate(context: vscode.ExtensionContext): DatasetCuratorApi {
  const log = new Log();
  context.subscriptions.push(log);

  const datasets = new DatasetsTreeProvider(log);
  context.subscriptions.push(datasets);
  const treeView = vscode.window.createTreeView(DatasetsTreeProvider.viewId, {
    treeDataProvider: datasets,
    canSelectMany: true,
    showCollapseAll: false,
  });
  context.subscriptions.push(treeView);

  const editors = new CurationEditorProvider(context, log);
  context.subscriptions.push(
    vscode.window.registerCustomEditorProvider(CurationEditorProvider.viewType, editors, {
      webviewOptions: { retainContextWhenHidden: false },
      supportsMultipleEditorsPerDocument: false,
    }),
  );

  context.subscriptions.push(ParquetPreviewProvider.register(log));

  registerCommands(context, { datasets, treeView, editors, log });
  registerGenerateCommands(context, { editors, log });
  registerGitCommands(context, { editors, log });
  registerLeakageLint(context, log);
  registerConflictFixes(context);
  registerTextFeatures(context, log);
  registerSecretCommands(context);
  registerWalkthroughCommands(context);
  registerJobCommands(context, log);
  const batches = registerBatchJobs(context, { editors, log });
  log.info('Dataset Curator activated');
  return { datasets, editors, batches };
}

export function deactivate(): void {}
