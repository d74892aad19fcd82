import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as vscode from 'vscode';
import { acquireLock } from '../../src/core/store/lock';
import { activateExtension, openInCurationEditor, scratchFile, waitFor, workspaceFolder } from './helpers';

const freshCopy = (name: string) => scratchFile(name);
const openDoc = openInCurationEditor;

const readLines = async (uri: vscode.Uri) =>
  Buffer.from(await vscode.workspace.fs.readFile(uri))
    .toString('utf8')
    .split('\n');

describe('Curation editor: editing, saving, external changes, hot exit', () => {
  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('an undo pressed while the file is being saved (another writer holds its lock) waits for the save, then undoes', async function () {
    this.timeout(60_000);
    const api = await activateExtension();
    const uri = await freshCopy('undo-during-save.jsonl');
    const doc = await openDoc(api, uri);
    const was = doc.session.record(2).annotation?.label;
    doc.edit({ op: 'relabel', index: 2, label: 'edited' });
    const lock = await acquireLock(uri.fsPath);
    let held = true;
    try {
      const saving = vscode.commands.executeCommand('workbench.action.files.save');
      // The save under way: its temp file is written, and it waits for the lock to replace the file.
      await waitFor('the save under way', () =>
        readdirSync(dirname(uri.fsPath)).some(
          (n) => n.startsWith('.undo-during-save.jsonl.curate-') && n.endsWith('.tmp'),
        )
          ? true
          : undefined,
      );
      await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
      const undoing = vscode.commands.executeCommand('undo');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(doc.session.record(2).annotation?.label, 'edited', 'the undo waits for the save');
      lock.release();
      held = false;
      await saving;
      await undoing;
      await waitFor('the undo', () => doc.session.record(2).annotation?.label === was || undefined);
      assert.match((await readLines(uri))[2] ?? '', /"label":"edited"/, 'the save wrote the edit');
      assert.equal(doc.isDirty, true, 'undone after the save: unsaved');
    } finally {
      if (held) lock.release();
    }
  });

  it('relabels through the undo stack and saves only the edited line', async () => {
    const api = await activateExtension();
    const uri = await freshCopy('relabel.jsonl');
    const before = await readLines(uri);
    const doc = await openDoc(api, uri);
    const rec = doc.edit({ op: 'relabel', index: 2, label: 'positive' });
    assert.equal(rec.annotation?.label, 'positive');
    assert.ok(doc.isDirty);
    await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
    await vscode.commands.executeCommand('undo');
    await waitFor('undo', () => doc.session.record(2).annotation?.label !== 'positive' || undefined);
    await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
    await vscode.commands.executeCommand('redo');
    await waitFor('redo', () => doc.session.record(2).annotation?.label === 'positive' || undefined);
    await vscode.commands.executeCommand('workbench.action.files.save');
    await waitFor('the save', () => !doc.isDirty || undefined);
    const after = await readLines(uri);
    assert.equal(after.length, before.length);
    after.forEach((line, i) => {
      if (i !== 2) assert.equal(line, before[i], `line ${i + 1} is untouched`);
    });
    const saved = JSON.parse(after[2] ?? '') as {
      label: string;
      annotations: { suggestions: { label: { value: string }[] } };
    };
    assert.equal(saved.label, 'positive');
    const original = JSON.parse(before[2] ?? '') as typeof saved;
    assert.deepEqual(saved.annotations.suggestions, original.annotations.suggestions, "the model's suggestion is kept");
  });

  it('asks before reloading when the file changes on disk while there are unsaved edits', async () => {
    const api = await activateExtension();
    const uri = await freshCopy('external.jsonl');
    const doc = await openDoc(api, uri);
    const asked: string[] = [];
    api.editors.prompts = {
      externalChangeWhileDirty: async (name) => {
        asked.push(name);
        return 'keep';
      },
      saveConflict: async () => 'cancel',
      editsSetAside: async () => false,
    };
    try {
      doc.edit({ op: 'relabel', index: 0, label: 'neutral' });
      const lines = await readLines(uri);
      lines[5] = JSON.stringify({ text: 'changed by another program', label: 'negative' });
      // As editors and git do: a new file renamed over the old one.
      writeFileSync(`${uri.fsPath}.tmp`, lines.join('\n'));
      renameSync(`${uri.fsPath}.tmp`, uri.fsPath);
      await waitFor('the question', () => (asked.length > 0 ? true : undefined), 30_000);
      assert.deepEqual(asked, ['external.jsonl']);
      assert.equal(doc.session.record(0).annotation?.label, 'neutral', 'the unsaved edit is still there');
      // Saving now is a conflict: with "cancel" the file on disk is left as the other program wrote it.
      await assert.rejects(doc.save());
      assert.match((await readLines(uri))[5] ?? '', /changed by another program/);
    } finally {
      const { dialogPrompts } = await import('../../src/extension/datasetDocument');
      api.editors.prompts = dialogPrompts;
    }
  });

  it('sets unsaved edits aside, then shows the new content, when another program rewrites the file in place', async () => {
    const api = await activateExtension();
    const uri = await freshCopy('inplace.jsonl');
    const doc = await openDoc(api, uri);
    const told: { aside: string; lines: number }[] = [];
    api.editors.prompts = {
      externalChangeWhileDirty: async () => 'keep',
      saveConflict: async () => 'cancel',
      editsSetAside: async (_name, aside, lines) => {
        told.push({ aside, lines });
        return false;
      },
    };
    try {
      doc.edit({ op: 'relabel', index: 3, label: 'neutral' });
      const edited = doc.session.record(3).raw;
      const lines = await readLines(uri);
      lines.splice(0, 2, JSON.stringify({ text: 'a shorter file, written in place', label: 'negative' }));
      writeFileSync(uri.fsPath, lines.join('\n')); // truncates and rewrites the same file
      await waitFor('the edits set aside', () => (told.length > 0 ? true : undefined), 30_000);
      const aside = readFileSync(told[0]!.aside, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { line: number; text: string });
      assert.deepEqual(
        aside,
        [{ line: 4, text: edited }],
        'the edited line, with its line number, is kept in the side file',
      );
      assert.equal(told[0]!.lines, 1);
      await waitFor(
        'the new content',
        () => (doc.session.record(0).value?.text === 'a shorter file, written in place' ? true : undefined),
        15_000,
      );
      assert.equal(doc.isDirty, false);
      unlinkSync(told[0]!.aside);
    } finally {
      const { dialogPrompts } = await import('../../src/extension/datasetDocument');
      api.editors.prompts = dialogPrompts;
    }
  });

  it('reloads silently when the file changes on disk and there are no edits', async () => {
    const api = await activateExtension();
    const uri = await freshCopy('reload.jsonl');
    const doc = await openDoc(api, uri);
    const lines = await readLines(uri);
    lines.splice(1, 0, JSON.stringify({ text: 'inserted elsewhere', label: 'neutral' }));
    await vscode.workspace.fs.writeFile(uri, Buffer.from(lines.join('\n')));
    await waitFor(
      'the reload',
      () => (doc.session.record(1).value?.text === 'inserted elsewhere' ? true : undefined),
      15_000,
    );
    assert.equal(doc.isDirty, false);
  });

  it('backs up unsaved edits and restores them (hot exit)', async () => {
    const api = await activateExtension();
    const uri = await freshCopy('hotexit.jsonl');
    const doc = await openDoc(api, uri);
    doc.edit({ op: 'relabel', index: 4, label: 'negative' });
    doc.edit({ op: 'setField', index: 7, path: ['text'], value: 'edited text' });
    const destination = vscode.Uri.joinPath(workspaceFolder(), 'scratch', 'backups', 'hotexit.backup');
    const cts = new vscode.CancellationTokenSource();
    const backup = await api.editors.backupCustomDocument(doc, { destination }, cts.token);
    const restored = await api.editors.openCustomDocument(
      uri,
      { backupId: backup.id, untitledDocumentData: undefined },
      cts.token,
    );
    try {
      await restored.store.ready;
      assert.equal(restored.session.record(4).annotation?.label, 'negative');
      assert.equal(restored.session.record(7).value?.text, 'edited text');
      assert.ok(restored.isDirty, 'restored edits are unsaved');
      const onDisk = await readLines(uri);
      assert.notEqual(JSON.parse(onDisk[7] ?? '{}').text, 'edited text', 'the file on disk is untouched');
    } finally {
      restored.dispose();
      backup.delete();
    }
  });
});
