import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { activateExtension, openInCurationEditor, waitFor, workspaceFolder } from './helpers';

describe('Parquet and .ndjson files', () => {
  it('lists a Parquet file read-only, previews it, and converts it to JSONL to edit; lists .ndjson files', async () => {
    const api = await activateExtension();
    const folder = vscode.Uri.joinPath(workspaceFolder(), 'hub');
    // written by DuckDB (test/fixtures/parquet/README.md)
    const bytes = readFileSync(join(__dirname, '..', '..', '..', 'test', 'fixtures', 'parquet', 'chats.parquet'));
    const uri = vscode.Uri.joinPath(folder, 'chats.parquet');
    const nd = vscode.Uri.joinPath(folder, 'more.ndjson');
    await vscode.workspace.fs.writeFile(uri, bytes);
    await vscode.workspace.fs.writeFile(nd, Buffer.from('{"text":"hello","label":"greeting"}\n'));
    try {
      const item = await waitFor('the Parquet file listed with its rows', async () =>
        (await api.datasets.getChildren()).find(
          (i) => i.uri.fsPath === uri.fsPath && String(i.description).includes('rows'),
        ),
      );
      assert.equal(item.description, 'hub · 3 rows · Parquet, read-only');
      assert.equal(item.contextValue, 'parquetDataset', 'the JSONL commands are not offered on it');
      assert.deepEqual(item.command?.arguments, [item.uri, 'datasetCurator.parquetPreview']);
      const ndItem = await waitFor('the .ndjson file listed', async () =>
        (await api.datasets.getChildren()).find((i) => i.uri.fsPath === nd.fsPath),
      );
      assert.equal(ndItem.contextValue, 'dataset');
      assert.equal((await api.datasets.summary(nd)).records, 1);
      // .ndjson opens in the curation editor (its selector)
      const ndDoc = await openInCurationEditor(api, nd);
      assert.equal(ndDoc.store.lineCount, 1);
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');

      await vscode.commands.executeCommand('vscode.openWith', uri, 'datasetCurator.parquetPreview');
      await waitFor('the read-only preview in front', () => {
        const t = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
        return (
          t instanceof vscode.TabInputCustom &&
          t.viewType === 'datasetCurator.parquetPreview' &&
          t.uri.fsPath === uri.fsPath
        );
      });
      // "Convert to JSONL to edit": the JSONL beside it, opened in the curation editor
      await vscode.commands.executeCommand('datasetCurator.convertParquetToJsonl', uri);
      const jsonl = vscode.Uri.joinPath(folder, 'chats.jsonl');
      const doc = await waitFor('the JSONL open in the curation editor', () => api.editors.documentFor(jsonl));
      await doc.store.ready;
      assert.equal(doc.store.lineCount, 3);
      const lines = Buffer.from(await vscode.workspace.fs.readFile(jsonl))
        .toString('utf8')
        .trim()
        .split('\n');
      assert.equal(
        lines[2],
        '{"id":3,"messages":[{"role":"user","content":"2 + 2?"},{"role":"assistant","content":"4."}],"topic":"math","big":9223372036854775807}',
      );
      assert.match(lines[0]!, /"big":9007199254740993\}$/, 'a 64-bit integer with every digit');
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await vscode.workspace.fs.delete(folder, { recursive: true });
    }
  });
});
