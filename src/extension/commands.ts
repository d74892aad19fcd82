import * as vscode from 'vscode';
import type { DatasetItem, DatasetsTreeProvider } from './datasetsTree';
import { CurationEditorProvider } from './curationEditor';
import { exportCommand } from './exportCommand';
import { filterCommand } from './filterCommand';
import { findDuplicatesCommand, sendToReviewCommand, showAgreementCommand } from './assessmentCommands';
import { cascadeCommand, doingOf, runTaskCommand, taskCommands } from './llmCommands';
import { confidenceCommand } from './confidenceCommand';
import { faceNames } from '../core/registry';
import { openPromptTemplate } from './promptCommands';
import type { Log } from './log';

interface Deps {
  datasets: DatasetsTreeProvider;
  treeView: vscode.TreeView<DatasetItem>;
  editors: CurationEditorProvider;
  log: Log;
}

/** The target files of a command: the clicked item, the multi-selection, or the active editor. */
export function targetUris(arg: unknown, selected: readonly unknown[] | undefined): vscode.Uri[] {
  const fromItem = (x: unknown): vscode.Uri | undefined =>
    x instanceof vscode.Uri
      ? x
      : x && typeof x === 'object' && 'uri' in x && x.uri instanceof vscode.Uri
        ? x.uri
        : undefined;
  const many = (selected ?? []).map(fromItem).filter((u): u is vscode.Uri => !!u);
  if (many.length > 0) return many;
  const one = fromItem(arg);
  if (one) return [one];
  const tab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (tab instanceof vscode.TabInputCustom || tab instanceof vscode.TabInputText) return [tab.uri];
  // Run from elsewhere (the walkthrough, the command palette over another view): the dataset
  // showing in a curation editor, when exactly one does.
  const showing = vscode.window.tabGroups.all
    .map((g) => g.activeTab?.input)
    .filter(
      (i): i is vscode.TabInputCustom =>
        i instanceof vscode.TabInputCustom && i.viewType === CurationEditorProvider.viewType,
    );
  return showing.length === 1 ? [showing[0]!.uri] : [];
}

export function registerCommands(context: vscode.ExtensionContext, deps: Deps): void {
  const reg = (id: string, fn: (...args: unknown[]) => unknown) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, fn));

  reg('datasetCurator.refresh', () => deps.datasets.refresh());

  reg('datasetCurator.openInCurationEditor', async (arg, selected) => {
    const uris = targetUris(arg, Array.isArray(selected) ? selected : undefined);
    if (uris.length === 0) {
      void vscode.window.showWarningMessage('Select a dataset file (.jsonl) to open in the Curation Editor.');
      return;
    }
    for (const uri of uris)
      await vscode.commands.executeCommand('vscode.openWith', uri, CurationEditorProvider.viewType);
  });

  reg('datasetCurator.revealInExplorer', async (arg, selected) => {
    const [uri] = targetUris(arg, Array.isArray(selected) ? selected : undefined);
    if (uri) await vscode.commands.executeCommand('revealInExplorer', uri);
  });

  reg('datasetCurator.revealInDatasets', async (arg, selected) => {
    const [uri] = targetUris(arg, Array.isArray(selected) ? selected : undefined);
    if (!uri) return;
    const item = await deps.datasets.itemFor(uri);
    if (!item) {
      void vscode.window.showInformationMessage(
        `${vscode.workspace.asRelativePath(uri)} is not in the Datasets view: it is outside the workspace or left out by the datasetCurator.datasets.include / .exclude settings.`,
      );
      return;
    }
    await deps.treeView.reveal(item, { select: true, focus: true });
  });

  /** A command over each selected dataset file, one at a time; a failure is shown and logged. */
  const perFile = (id: string, noun: string, verb: string, run: (uri: vscode.Uri) => Promise<unknown>) =>
    reg(id, async (arg, selected) => {
      const uris = targetUris(arg, Array.isArray(selected) ? selected : undefined);
      if (uris.length === 0) {
        void vscode.window.showWarningMessage(`Select a dataset file (.jsonl) to ${verb}.`);
        return;
      }
      for (const uri of uris) {
        try {
          await run(uri);
        } catch (err) {
          deps.log.error(`${noun} failed`, err);
          void vscode.window.showErrorMessage(`${noun} failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    });
  perFile('datasetCurator.filter', 'Filter', 'filter', (uri) => filterCommand(uri, deps.editors, deps.log));
  perFile('datasetCurator.export', 'Export', 'export', (uri) => exportCommand(uri, deps.editors, deps.log));
  // Assessment: the agreement report, duplicate clusters, the review queue.
  perFile('datasetCurator.showAgreement', 'The agreement report', 'see its agreement report', (uri) =>
    showAgreementCommand(uri, deps.editors),
  );
  perFile('datasetCurator.findDuplicates', 'Finding duplicates', 'find its duplicates', (uri) =>
    findDuplicatesCommand(uri, deps.editors),
  );
  perFile('datasetCurator.sendToReview', 'Sending records to review', 'send its records to review', (uri) =>
    sendToReviewCommand(uri, deps.editors),
  );

  const llm = { context, editors: deps.editors, log: deps.log };
  for (const { task, file, record, batch } of taskCommands) {
    const failed = (err: unknown): void => {
      deps.log.error(`${task} failed`, err);
      void vscode.window.showErrorMessage(
        `${doingOf(task)} failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    };
    reg(file, async (arg, selected) => {
      const uris = targetUris(arg, Array.isArray(selected) ? selected : undefined);
      if (uris.length === 0) {
        void vscode.window.showWarningMessage('Select a dataset file (.jsonl) first.');
        return;
      }
      for (const uri of uris) await runTaskCommand(task, uri, llm).catch(failed);
    });
    reg(record, async () => {
      const doc = deps.editors.activeDocument();
      if (!doc) {
        void vscode.window.showWarningMessage('Open a dataset in the Curation Editor first.');
        return;
      }
      await runTaskCommand(task, doc.uri, llm, doc.currentIndex).catch(failed);
    });
    // "Run as Batch": the same questions, the Batch API (src/extension/batchJobs.ts).
    if (batch)
      reg(batch, async (arg, selected) => {
        const uris = targetUris(arg, Array.isArray(selected) ? selected : undefined);
        if (uris.length === 0) {
          void vscode.window.showWarningMessage('Select a dataset file (.jsonl) first.');
          return;
        }
        for (const uri of uris) await runTaskCommand(task, uri, llm, undefined, { batch: true }).catch(failed);
      });
  }

  // "Label with a Cascade of Models…": the label operation with `cascade` (core cascade-run.ts).
  reg(cascadeCommand, async (arg, selected) => {
    const uris = targetUris(arg, Array.isArray(selected) ? selected : undefined);
    if (uris.length === 0) {
      void vscode.window.showWarningMessage('Select a dataset file (.jsonl) first.');
      return;
    }
    for (const uri of uris)
      await runTaskCommand('label', uri, llm, undefined, { cascade: true }).catch((err: unknown) => {
        deps.log.error('label cascade failed', err);
        void vscode.window.showErrorMessage(
          `Labeling with a cascade failed: ${err instanceof Error ? err.message : String(err)}`,
        );
      });
  });

  // "Compare Logprob Confidence with Self-Consistency…": the registry's confidence operation (as `curate confidence`).
  for (const [command, batch] of [
    [faceNames('confidence').vscode, false],
    [faceNames('confidence').vscodeBatch, true],
  ] as const)
    perFile(command, 'Comparing confidence', 'compare its confidence measures', (uri) =>
      confidenceCommand(uri, llm, { batch }),
    );

  reg('datasetCurator.openPromptTemplate', async (arg) => {
    const [uri] = targetUris(arg, undefined);
    await openPromptTemplate(uri).catch((err: unknown) => {
      deps.log.error('Open Prompt Template failed', err);
      void vscode.window.showErrorMessage(
        `Open Prompt Template failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    });
  });

  reg('datasetCurator.openAsText', async (arg, selected) => {
    for (const uri of targetUris(arg, Array.isArray(selected) ? selected : undefined)) {
      await vscode.commands.executeCommand('vscode.openWith', uri, 'default');
    }
  });
}
