import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activateExtension, scratchFile, waitFor, workspaceFolder } from './helpers';

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
    const lines = Buffer.from(text)
      .toString('utf8')
      .split('\n')
      .filter((l) => l.length > 0);
    assert.equal(doc.session.info().lineCount, lines.length);
    const first = doc.session.record(0);
    assert.equal(first.lineNumber, 1);
    assert.deepEqual(first.value, JSON.parse(lines[0] ?? ''));
    assert.throws(() => doc.session.record(lines.length), /does not exist/);
  });
});

describe('Curation editor: search and "only matches" over the match index', () => {
  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('finds matches forward and backward with wrap-around, serves rows by match position, and follows edits', async () => {
    const api = await activateExtension();
    const uri = vscode.Uri.joinPath(workspaceFolder(), 'samples', 'reviews.jsonl');
    await vscode.commands.executeCommand('vscode.openWith', uri, 'datasetCurator.curationEditor');
    const doc = await waitFor('the open document', () => api.editors.documentFor(uri));
    await doc.store.ready;
    const lines = Buffer.from(await vscode.workspace.fs.readFile(uri))
      .toString('utf8')
      .split('\n')
      .filter(Boolean);
    const neutral = lines.flatMap((l, i) => ((JSON.parse(l) as { label: string }).label === 'neutral' ? [i] : []));
    assert.ok(neutral.length >= 3);
    const query = { label: 'neutral' };
    const all = await doc.session.search({ query, from: 0, direction: 'forward', limit: 1000 });
    assert.deepEqual(all, { matches: neutral, total: neutral.length });
    const mid = neutral[1]!;
    const forward = await doc.session.search({ query, from: mid + 1, direction: 'forward', limit: 1000 });
    assert.deepEqual(
      forward.matches,
      [...neutral.filter((i) => i > mid), ...neutral.filter((i) => i <= mid)],
      'forward wraps to the start',
    );
    const backward = await doc.session.search({ query, from: mid, direction: 'backward', limit: 2 });
    assert.deepEqual(backward.matches, [mid, neutral[0]]);
    const wrapBack = await doc.session.search({
      query,
      from: Math.max(0, neutral[0]! - 1),
      direction: 'backward',
      limit: 1,
    });
    assert.deepEqual(wrapBack.matches, [neutral[neutral.length - 1]], 'backward wraps to the end');

    const page = doc.session.matchRows({ query, start: 1, count: 2, columns: ['text'] });
    assert.deepEqual(
      page.rows.map((r) => r.lineNumber),
      [neutral[1]! + 1, neutral[2]! + 1],
    );
    assert.equal(page.rows[0]!.cells[0], (JSON.parse(lines[neutral[1]!]!) as { text: string }).text);
    assert.deepEqual(
      { count: page.count, done: page.done, lineCount: page.lineCount },
      { count: neutral.length, done: true, lineCount: lines.length },
    );
    const pos = await doc.session.matchPosition({ query, index: neutral[1]! - 1, wait: true });
    assert.deepEqual(
      { position: pos.position, exact: pos.exact },
      { position: neutral[0] === neutral[1]! - 1 ? 0 : 1, exact: neutral[0] === neutral[1]! - 1 },
    );

    // A relabel takes a record out of the matches and another in; undo puts them back.
    doc.edit({ op: 'relabel', index: neutral[0]!, label: 'positive' });
    const other = lines.findIndex((l) => (JSON.parse(l) as { label: string }).label === 'negative');
    doc.edit({ op: 'relabel', index: other, label: 'neutral' });
    const after = await doc.session.search({ query, from: 0, direction: 'forward', limit: 1000 });
    assert.deepEqual(
      after.matches,
      [...neutral.slice(1), other].sort((a, b) => a - b),
    );
    await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
    await vscode.commands.executeCommand('undo');
    await vscode.commands.executeCommand('undo');
    await waitFor('undone', async () =>
      (await doc.session.search({ query, from: 0, direction: 'forward', limit: 1000 })).matches.join() ===
      neutral.join()
        ? true
        : undefined,
    );
    await assert.rejects(
      doc.session.search({ query: { text: '(', regex: true }, from: 0, direction: 'forward', limit: 1 }),
      /Invalid regular expression/,
    );
  });

  it('indexes the rest of a large file once the editor is up, without being asked; the page starts with the labels of the first records', async () => {
    const api = await activateExtension();
    // Over 16 MiB (its scan waits for the page): 'neutral' in the first 64 KiB, 'positive' from record 1000 on.
    const pad = 'x'.repeat(20_000);
    const lines = Array.from({ length: 1100 }, (_, i) =>
      JSON.stringify({ id: i, text: pad, label: i < 1000 ? 'neutral' : 'positive' }),
    );
    const uri = await scratchFile('deferred-scan.jsonl', `${lines.join('\n')}\n`);
    await vscode.commands.executeCommand('vscode.openWith', uri, 'datasetCurator.curationEditor');
    const doc = await waitFor('the document', () => api.editors.documentFor(uri));
    assert.deepEqual(
      doc.session.info({ quick: true }).labels,
      ['neutral'],
      'the quick label set: the first 64 KiB of records',
    );
    // indexDone does not start the scan: the page's "shown" (or the one-second fallback) does.
    await Promise.race([
      doc.store.indexDone,
      new Promise((_, reject) => setTimeout(() => reject(new Error('not indexed after 20 s')), 20_000)),
    ]);
    assert.equal(doc.session.info().lineCount, lines.length);
    assert.equal(doc.session.info().indexed, true);
    assert.deepEqual(doc.session.info().labels, ['neutral', 'positive'], 'the full label set: the first 2000 records');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.workspace.fs.delete(uri);
  });
});
