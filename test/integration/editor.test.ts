import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activateExtension, waitFor, workspaceFolder } from './helpers';

describe('Curation editor', () => {
  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('opens a dataset from the command and reads its records from the store', async () => {
    const api = await activateExtension();
    const uri = vscode.Uri.joinPath(workspaceFolder(), 'samples', 'reviews.jsonl');
    await vscode.commands.executeCommand('datasetCurator.openInCurationEditor', uri);
    const panel = await waitFor('the curation editor panel', () => api.editors.panelsFor(uri)[0]);
    assert.equal(panel.viewType, 'datasetCurator.curationEditor');
    const doc = await waitFor('the open document', () => api.editors.documentFor(uri));
    await doc.store.ready;
    const text = await vscode.workspace.fs.readFile(uri);
    const lines = Buffer.from(text).toString('utf8').split('\n').filter((l) => l.length > 0);
    assert.equal(doc.info().lineCount, lines.length);
    const first = doc.record(0);
    assert.equal(first.lineNumber, 1);
    assert.deepEqual(first.value, JSON.parse(lines[0] ?? ''));
    assert.throws(() => doc.record(lines.length), /does not exist/);
  });
});
