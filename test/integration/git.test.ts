// Git-native features in the real VS Code: Compare with HEAD over the curation editor's unsaved
// edits, stepping through the changed records; the leakage lint's Problems entries and quick fix;
// the quick fixes of a record between conflict markers.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as vscode from 'vscode';
import type { DiffResult } from '../../src/core/git/diff';
import type { Leak } from '../../src/core/filter/leakage';
import { activateExtension, openInCurationEditor, waitFor, workspaceFolder } from './helpers';

const lines = (...recs: unknown[]) => recs.map((r) => `${JSON.stringify(r)}\n`).join('');
const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env, stdio: 'pipe' }).toString();

describe('Git: Compare with HEAD, leakage lint, conflict quick fixes', () => {
  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('Compare with HEAD lists the records changed since the commit (unsaved edits included) and steps through them', async () => {
    const api = await activateExtension();
    const dir = vscode.Uri.joinPath(workspaceFolder(), 'scratch', `repo-${Date.now()}`);
    await vscode.workspace.fs.createDirectory(dir);
    git(dir.fsPath, 'init', '-q');
    git(dir.fsPath, 'config', 'user.name', 'maria');
    git(dir.fsPath, 'config', 'user.email', 'maria@example.com');
    const uri = vscode.Uri.joinPath(dir, 'train.jsonl');
    const recs = Array.from({ length: 6 }, (_, i) => ({
      id: i + 1,
      text: `review number ${i + 1}`,
      label: i % 2 ? 'negative' : 'positive',
    }));
    await vscode.workspace.fs.writeFile(uri, Buffer.from(lines(...recs)));
    git(dir.fsPath, 'add', '.');
    git(dir.fsPath, 'commit', '-qm', 'labels');
    const doc = await openInCurationEditor(api, uri);
    // nothing changed yet
    const none = await vscode.commands.executeCommand<DiffResult>('datasetCurator.compareWithHead', uri);
    assert.deepEqual(none.summary, { added: 0, removed: 0, changed: 0, unchanged: 6, moved: 0, byKind: {} });
    // a person relabels two records (not saved)
    doc.edit({ op: 'relabel', index: 1, label: 'positive' });
    doc.edit({ op: 'relabel', index: 4, label: 'negative' });
    const result = await vscode.commands.executeCommand<DiffResult>('datasetCurator.compareWithHead', uri);
    assert.deepEqual(
      result.records.map((r) => [r.label, r.change, r.newLine, r.changes.map((c) => c.kind)]),
      [
        ['id 2', 'changed', 2, ['label', 'decision', 'review']],
        ['id 5', 'changed', 5, ['label', 'decision', 'review']],
      ],
    );
    // the decision names who made it: the git identity of the file's repository
    const decision = result.records[0]!.changes.find((c) => c.kind === 'decision');
    assert.equal(decision?.kind === 'decision' ? decision.user : undefined, 'maria');
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    await vscode.commands.executeCommand('vscode.openWith', uri, 'datasetCurator.curationEditor');
    doc.currentIndex = 0;
    assert.equal(await vscode.commands.executeCommand('datasetCurator.nextChange'), 1);
    assert.equal(doc.currentIndex, 1);
    assert.equal(await vscode.commands.executeCommand('datasetCurator.nextChange'), 4);
    assert.equal(
      await vscode.commands.executeCommand('datasetCurator.nextChange'),
      undefined,
      'no change after the last',
    );
    assert.equal(await vscode.commands.executeCommand('datasetCurator.previousChange'), 1);
  });

  it('merges two branches that decided the same record differently with the installed driver: no conflict, both decisions, the disagreement queue', async () => {
    const api = await activateExtension();
    const dir = vscode.Uri.joinPath(workspaceFolder(), 'scratch', `merge-${Date.now()}`);
    await vscode.workspace.fs.createDirectory(dir);
    const cwd = dir.fsPath;
    git(cwd, 'init', '-q', '-b', 'main');
    git(cwd, 'config', 'user.name', 'lead');
    git(cwd, 'config', 'user.email', 'lead@example.com');
    const uri = vscode.Uri.joinPath(dir, 'train.jsonl');
    const base = [
      { id: 1, text: 'great battery' },
      { id: 2, text: 'awful screen' },
    ];
    await vscode.workspace.fs.writeFile(uri, Buffer.from(lines(...base)));
    const installed = await vscode.commands.executeCommand<{ driver: string; attributesAdded: boolean }>(
      'datasetCurator.installMergeDriver',
      dir,
    );
    assert.ok(installed.attributesAdded);
    assert.match(git(cwd, 'config', 'merge.curate.driver'), /merge-driver %O %A %B %P/);
    git(cwd, 'add', '.');
    git(cwd, 'commit', '-qm', 'base');
    const decide = (value: string, user: string) => ({
      ...base[0],
      label: value,
      annotations: { human: { label: { value, user, status: 'submitted' } }, review: { status: 'reviewed' } },
    });
    git(cwd, 'checkout', '-q', '-b', 'maria');
    await vscode.workspace.fs.writeFile(uri, Buffer.from(lines(decide('negative', 'maria'), base[1])));
    git(cwd, 'commit', '-qam', 'maria');
    git(cwd, 'checkout', '-q', '-b', 'bob', 'main');
    await vscode.workspace.fs.writeFile(uri, Buffer.from(lines(decide('positive', 'bob'), base[1])));
    git(cwd, 'commit', '-qam', 'bob');
    git(cwd, 'merge', '-q', 'maria', '-m', 'merge maria');
    assert.equal(git(cwd, 'status', '--porcelain'), '');
    const doc = await openInCurationEditor(api, uri);
    const rec = doc.session.record(0);
    assert.equal(rec.annotation?.reviewQueue, 'disagreement');
    assert.equal(rec.annotation.human?.user, 'bob');
    const people = (
      (rec.value?.annotations as { decisions?: { label?: { user: string; value: string }[] } }).decisions?.label ?? []
    ).map((d) => `${d.user}:${d.value}`);
    assert.deepEqual(people, ['bob:positive', 'maria:negative']);
    const queue = await api.editors.assessment.for(doc).queue();
    assert.deepEqual(queue.queues, [{ queue: 'disagreement', count: 1 }]);
    // my queue: the lead (this repository's git identity) decided nothing; record 2 is next, then record 1 again
    doc.currentIndex = 0;
    assert.equal(await vscode.commands.executeCommand('datasetCurator.nextUndecided'), 1);
    assert.equal(await vscode.commands.executeCommand('datasetCurator.nextUndecided'), 0);
    doc.edit({ op: 'relabel', index: 0, label: 'positive' });
    doc.edit({ op: 'relabel', index: 1, label: 'negative' });
    assert.equal(
      await vscode.commands.executeCommand('datasetCurator.nextUndecided'),
      undefined,
      'the lead decided both',
    );
    const people0 = (
      (doc.session.record(0).value?.annotations as { decisions?: { label?: { user: string }[] } }).decisions?.label ??
      []
    ).map((d) => d.user);
    assert.deepEqual(people0, ['bob', 'maria', 'lead'], "the lead's decision joins the other two");
  });

  it('puts a leak between train and test in the Problems panel on the test line, and the quick fix removes it', async () => {
    await activateExtension();
    const dir = vscode.Uri.joinPath(workspaceFolder(), 'scratch', `splits-${Date.now()}`);
    const shared = 'The blender is loud but crushes ice in seconds and the jug survived a fall from the counter.';
    const train = vscode.Uri.joinPath(dir, 'train.jsonl');
    const test = vscode.Uri.joinPath(dir, 'test.jsonl');
    await vscode.workspace.fs.writeFile(train, Buffer.from(lines({ text: 'only in train' }, { text: shared })));
    await vscode.workspace.fs.writeFile(
      test,
      Buffer.from(lines({ text: 'only in test' }, { text: shared.toUpperCase() }, { text: 'also only in test' })),
    );
    try {
      const leaks = await vscode.commands.executeCommand<Leak[]>('datasetCurator.checkLeakage');
      const mine = leaks.filter((l) => l.file === test.fsPath);
      assert.deepEqual(
        mine.map((l) => [l.line, l.kind, l.other.file, l.other.line]),
        [[2, 'exact', train.fsPath, 2]],
      );
      const diag = await waitFor('the leakage warning', () =>
        vscode.languages.getDiagnostics(test).find((d) => d.code === 'leakage'),
      );
      assert.equal(diag.range.start.line, 1);
      assert.equal(diag.severity, vscode.DiagnosticSeverity.Warning);
      assert.match(diag.message, /^Leakage: this eval record is an exact duplicate of train record .*train\.jsonl:2$/);
      assert.equal(diag.relatedInformation?.[0]?.location.uri.fsPath, train.fsPath);
      await vscode.window.showTextDocument(test);
      const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
        'vscode.executeCodeActionProvider',
        test,
        new vscode.Range(1, 3, 1, 3),
        vscode.CodeActionKind.QuickFix.value,
      );
      const fix = actions.find((a) => a.title.startsWith('Remove this record from'));
      assert.ok(fix?.edit && (await vscode.workspace.applyEdit(fix.edit)));
      const text = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === test.fsPath)!;
      await text.save();
      assert.equal(
        Buffer.from(await vscode.workspace.fs.readFile(test)).toString('utf8'),
        lines({ text: 'only in test' }, { text: 'also only in test' }),
      );
      await waitFor('the warning to go', async () => {
        await vscode.commands.executeCommand('datasetCurator.checkLeakage');
        return vscode.languages.getDiagnostics(test).some((d) => d.code === 'leakage') ? undefined : true;
      });
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await vscode.workspace.fs.delete(dir, { recursive: true });
      await vscode.commands.executeCommand('datasetCurator.checkLeakage');
    }
  });

  it('offers to keep ours or theirs for a record between conflict markers, and keeps the rest', async () => {
    await activateExtension();
    const uri = vscode.Uri.joinPath(workspaceFolder(), 'scratch', 'conflicted.jsonl');
    const ours = JSON.stringify({ id: 4, text: 'fine' });
    const theirs = JSON.stringify({ id: 4, text: 'Fine, I guess.' });
    const before = JSON.stringify({ id: 3, text: 'meh' });
    const after = JSON.stringify({ id: 5, text: 'great' });
    await vscode.workspace.fs.writeFile(
      uri,
      Buffer.from(
        `${before}\n<<<<<<< ours conflicted.jsonl (id 4: text edited on both sides)\n${ours}\n=======\n${theirs}\n>>>>>>> theirs conflicted.jsonl\n${after}\n`,
      ),
    );
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const at = async (line: number) =>
      (
        await vscode.commands.executeCommand<vscode.CodeAction[]>(
          'vscode.executeCodeActionProvider',
          uri,
          new vscode.Range(line, 0, line, 0),
          vscode.CodeActionKind.QuickFix.value,
        )
      ).filter((a) => a.title.startsWith('Keep '));
    assert.deepEqual(
      (await at(0)).map((a) => a.title),
      [],
      'not outside the block',
    );
    const fixes = await at(4);
    assert.deepEqual(
      fixes.map((a) => a.title),
      ['Keep ours (this branch) for id 4', 'Keep theirs (the merged branch) for id 4'],
    );
    assert.ok(fixes[1]!.edit && (await vscode.workspace.applyEdit(fixes[1]!.edit)));
    assert.equal(doc.getText(), `${before}\n${theirs}\n${after}\n`);
    await doc.save();
  });
});
