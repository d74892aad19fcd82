import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activateExtension, waitFor, workspaceFolder } from './helpers';

const pair = (i: number) =>
  JSON.stringify({
    id: i,
    prompt: `Question ${i}`,
    chosen: [
      { role: 'user', content: `Question ${i}` },
      { role: 'assistant', content: `good answer ${i}` },
    ],
    chosen_rating: 9,
    chosen_model: 'big',
    rejected: [
      { role: 'user', content: `Question ${i}` },
      { role: 'assistant', content: `bad answer ${i}` },
    ],
    rejected_rating: 2,
    rejected_model: 'small',
    annotations: { origin: { type: 'model', task: 'preferences' } },
  });

describe('Curation editor: preference pairs', () => {
  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('swaps chosen and rejected as one step of the undo stack; the save rewrites only that line', async () => {
    const api = await activateExtension();
    const uri = vscode.Uri.joinPath(workspaceFolder(), 'scratch', 'pairs.jsonl');
    const text = `${[0, 1, 2].map(pair).join('\n')}\n{"text":"not a pair"}\n`;
    await vscode.workspace.fs.writeFile(uri, Buffer.from(text));
    await vscode.commands.executeCommand('vscode.openWith', uri, 'datasetCurator.curationEditor');
    const doc = await waitFor('the document', () => api.editors.documentFor(uri));
    await doc.store.ready;
    const shown = doc.session.record(1);
    assert.equal(shown.preference?.chosen.text, 'good answer 1');
    assert.equal(shown.origin?.type, 'model');
    assert.equal(shown.origin.task, 'preferences');
    const swapped = doc.edit({ op: 'swapPreference', index: 1 });
    assert.deepEqual(swapped.preference?.chosen, { text: 'bad answer 1', rating: 2, model: 'small' });
    assert.deepEqual(swapped.preference.rejected, { text: 'good answer 1', rating: 9, model: 'big' });
    assert.equal(swapped.preference.human, 'swapped');
    assert.ok(doc.isDirty);
    await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
    await vscode.commands.executeCommand('undo');
    await waitFor('undo', () => (doc.session.record(1).preference?.chosen.text === 'good answer 1' ? true : undefined));
    assert.equal(doc.session.record(1).preference?.human, undefined, 'the human decision is undone with it');
    await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
    await vscode.commands.executeCommand('redo');
    await waitFor('redo', () => (doc.session.record(1).preference?.chosen.text === 'bad answer 1' ? true : undefined));
    await vscode.commands.executeCommand('workbench.action.files.save');
    await waitFor('the save', () => (!doc.isDirty ? true : undefined));
    const after = Buffer.from(await vscode.workspace.fs.readFile(uri))
      .toString('utf8')
      .split('\n');
    const before = text.split('\n');
    assert.equal(after[0], before[0]);
    assert.equal(after[2], before[2]);
    assert.equal(after[3], before[3]);
    assert.equal(after.length, before.length);
    const saved = JSON.parse(after[1] ?? '{}') as { chosen_model: string; rejected_rating: number };
    assert.equal(saved.chosen_model, 'small');
    assert.equal(saved.rejected_rating, 9);
    // not a pair: a clear error, nothing changed
    assert.throws(() => doc.edit({ op: 'swapPreference', index: 3 }), /not a preference pair/);
    assert.equal(doc.isDirty, false);
  });
});
