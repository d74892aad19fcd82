import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { writeMillion } from '../support/million';
import { activateExtension, waitFor, workspaceFolder } from './helpers';

describe('Datasets view', () => {
  it('lists the workspace dataset files with their folders', async () => {
    const api = await activateExtension();
    const items = await api.datasets.getChildren();
    const names = items.map((i) => vscode.workspace.asRelativePath(i.uri));
    assert.ok(names.includes('samples/reviews.jsonl'), `reviews.jsonl is listed: ${names.join(', ')}`);
    for (const item of items) {
      assert.equal(item.contextValue, 'dataset');
      // VS Code's own command, whose arguments travel with the row (see DatasetItem).
      assert.equal(item.command?.command, 'vscode.openWith');
      assert.deepEqual(item.command.arguments, [item.uri, 'datasetCurator.curationEditor']);
    }
  });

  it('shows record count, annotated share, mean judge score and invalid lines per file', async () => {
    const api = await activateExtension();
    const uri = vscode.Uri.joinPath(workspaceFolder(), 'samples', 'reviews.jsonl');
    const text = Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
    const records = text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { label?: string; judge?: { score: number } });
    const scores = records.map((r) => r.judge?.score).filter((s): s is number => s !== undefined);
    const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
    const summary = await api.datasets.summary(uri);
    assert.equal(summary.records, records.length);
    assert.equal(summary.invalid, 0);
    assert.ok(Math.abs((summary.meanScore ?? 0) - mean) < 1e-9);
    const item = (await api.datasets.getChildren()).find((i) => i.uri.fsPath === uri.fsPath);
    assert.equal(item?.description, `samples · ${records.length} records · 100% annotated · score ${mean.toFixed(1)}`);

    const broken = vscode.Uri.joinPath(workspaceFolder(), 'broken', 'mixed.jsonl');
    await vscode.workspace.fs.writeFile(
      broken,
      Buffer.from('{"text":"ok","label":"a"}\nnot json\n{"text":"unlabeled"}\n'),
    );
    try {
      const s = await api.datasets.summary(broken);
      assert.equal(s.records, 2);
      assert.equal(s.invalid, 1);
      assert.equal(s.annotatedShare, 0.5);
      const brokenItem = await waitFor('the new file listed, with its figures', async () =>
        (await api.datasets.getChildren()).find(
          (i) => i.uri.fsPath === broken.fsPath && String(i.description).includes('records'),
        ),
      );
      assert.equal(brokenItem.description, 'broken · 2 records · 50% annotated · 1 invalid');
    } finally {
      await vscode.workspace.fs.delete(vscode.Uri.joinPath(workspaceFolder(), 'broken'), { recursive: true });
    }
  });

  it('shows a new dataset file and drops a deleted one', async () => {
    const api = await activateExtension();
    const uri = vscode.Uri.joinPath(workspaceFolder(), 'fresh', 'new-data.jsonl');
    await vscode.workspace.fs.writeFile(uri, Buffer.from('{"text":"hello","label":"positive"}\n'));
    try {
      await waitFor('the new file listed', async () =>
        (await api.datasets.getChildren()).some((i) => i.uri.fsPath === uri.fsPath),
      );
    } finally {
      await vscode.workspace.fs.delete(vscode.Uri.joinPath(workspaceFolder(), 'fresh'), { recursive: true });
    }
    await waitFor(
      'the deleted file gone',
      async () => !(await api.datasets.getChildren()).some((i) => i.uri.fsPath === uri.fsPath),
    );
  });

  // A refresh of the whole view makes VS Code forget the rows' handles until it fetched them again:
  // a context-menu command run meanwhile gets no row, and the click does nothing. So new figures
  // refresh their row alone; the whole view only when the list of files changes.
  it('a file whose figures change refreshes its own row, which keeps its handle; a new file refreshes the list', async () => {
    const api = await activateExtension();
    const dir = vscode.Uri.joinPath(workspaceFolder(), 'rows');
    const a = vscode.Uri.joinPath(dir, 'a.jsonl');
    const b = vscode.Uri.joinPath(dir, 'b.jsonl');
    await vscode.workspace.fs.writeFile(a, Buffer.from('{"text":"one","label":"x"}\n'));
    const events: (string | undefined)[] = [];
    const sub = api.datasets.onDidChangeTreeData((e) =>
      events.push(e ? vscode.workspace.asRelativePath(e.uri) : undefined),
    );
    try {
      const item = await waitFor('a.jsonl with its figures', async () =>
        (await api.datasets.getChildren()).find(
          (i) => i.uri.fsPath === a.fsPath && String(i.description).includes('1 records'),
        ),
      );
      events.length = 0;
      await vscode.workspace.fs.writeFile(a, Buffer.from('{"text":"one","label":"x"}\n{"text":"two"}\n'));
      await waitFor(
        'the new figures',
        () => String(item.description).includes('2 records · 50% annotated') || undefined,
      );
      const again = (await api.datasets.getChildren()).find((i) => i.uri.fsPath === a.fsPath);
      assert.equal(again, item, 'the same row, updated in place');
      assert.ok(events.length > 0, 'the row was refreshed');
      assert.deepEqual([...new Set(events)], ['rows/a.jsonl'], 'only that row, never the whole view');
      await vscode.workspace.fs.writeFile(b, Buffer.from('{"text":"three"}\n'));
      await waitFor(
        'the list refreshed for b.jsonl',
        async () =>
          events.includes(undefined) && (await api.datasets.getChildren()).some((i) => i.uri.fsPath === b.fsPath),
      );
      assert.equal(
        (await api.datasets.getChildren()).find((i) => i.uri.fsPath === a.fsPath),
        item,
        'a.jsonl keeps its row',
      );
    } finally {
      sub.dispose();
      await vscode.workspace.fs.delete(dir, { recursive: true });
    }
  });

  it('shows progress while a large file is indexed, then its figures', async () => {
    const api = await activateExtension();
    const dir = vscode.Uri.joinPath(workspaceFolder(), 'large');
    await vscode.workspace.fs.createDirectory(dir);
    const uri = vscode.Uri.joinPath(dir, 'million.jsonl');
    // What VS Code was told to draw for the row, each time: indexing a million records can take
    // less time than one poll of the view, so the states are taken from the view's change events
    // (each one makes VS Code fetch and draw the row), not sampled.
    const seen: string[] = [];
    const sub = api.datasets.onDidChangeTreeData((e) => {
      if (e?.uri.fsPath === uri.fsPath) {
        seen.push(`${String(e.description)} [${e.iconPath instanceof vscode.ThemeIcon ? e.iconPath.id : ''}]`);
      }
    });
    writeMillion(uri.fsPath, 1_000_000);
    try {
      const done = await waitFor(
        'the figures',
        async () => {
          const item = (await api.datasets.getChildren()).find((i) => i.uri.fsPath === uri.fsPath);
          return item && String(item.description).includes('records') ? item : undefined;
        },
        120_000,
      );
      assert.ok(
        seen.some((s) => /^large · indexing \d+% \[loading~spin\]$/.test(s)),
        `progress was shown: ${[...new Set(seen)].join(' / ')}`,
      );
      assert.equal(done.description, 'large · 1,000,000 records · 100% annotated · score 4.5');
      assert.equal(seen.at(-1), 'large · 1,000,000 records · 100% annotated · score 4.5 [database]');
    } finally {
      sub.dispose();
      await vscode.workspace.fs.delete(dir, { recursive: true });
    }
  });

  it('contributes its commands under one category', async () => {
    await activateExtension();
    const commands = await vscode.commands.getCommands(true);
    for (const id of [
      'datasetCurator.refresh',
      'datasetCurator.openInCurationEditor',
      'datasetCurator.openAsText',
      'datasetCurator.revealInExplorer',
      'datasetCurator.revealInDatasets',
    ]) {
      assert.ok(commands.includes(id), `${id} is registered`);
    }
  });
});
