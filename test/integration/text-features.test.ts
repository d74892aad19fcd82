// The .jsonl features of the plain text editor, through VS Code's own command APIs (what the
// Problems panel, the hover, the CodeLens and the light bulb show): diagnostics per bad line,
// hover, CodeLens with Relabel, quick fixes applied and saved, and the limits above which they
// stand down with an explanation.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activateExtension, waitFor, workspaceFolder } from './helpers';

const ours = (uri: vscode.Uri) => vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'Dataset Curator');

/** Markdown as a reader sees it: appendText's backslash escapes and non-breaking spaces undone. */
const rendered = (h: vscode.Hover) =>
  h.contents
    .map((c) => (typeof c === 'string' ? c : c instanceof vscode.MarkdownString ? c.value : ''))
    .join('\n')
    .replace(/&nbsp;/g, ' ')
    .replace(/\\([\\`*_{}[\]()#+\-.!<>|~])/g, '$1');

async function write(name: string, text: string): Promise<vscode.Uri> {
  const uri = vscode.Uri.joinPath(workspaceFolder(), 'scratch', 'text', name);
  await vscode.workspace.fs.writeFile(uri, Buffer.from(text));
  return uri;
}

async function openText(uri: vscode.Uri): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument(uri);
  return vscode.window.showTextDocument(doc, { preview: false });
}

const sampleLines = async () =>
  Buffer.from(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(workspaceFolder(), 'samples', 'reviews.jsonl')))
    .toString('utf8')
    .split('\n')
    .filter(Boolean);

describe('Text editor features for .jsonl', function () {
  // Opening a 200,000-line or 21 MB document in the workbench is slow on a loaded machine.
  this.timeout(240_000);
  before(async () => {
    await activateExtension();
  });
  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('puts a Problems entry on each invalid, lossy or layout-breaking line, with its reason', async () => {
    const lines = [
      JSON.stringify({ text: 'fine', label: 'positive' }), // 1
      'not json at all', // 2
      '', // 3: blank
      '[1, 2, 3]', // 4: not an object
      '{"text":"twice","text":"again"}', // 5: duplicate key
      JSON.stringify({ text: 'bad judge', judge: { score: 'high' } }), // 6
      JSON.stringify({ text: 'bad label', label: { name: 'x' } }), // 7
      JSON.stringify({
        text: 'bad suggestion',
        annotations: { suggestions: { label: [{ value: 'a', score: 'very' }] } },
      }), // 8
      JSON.stringify({ text: 'fine too', label: 'negative', judge: { score: 3, scale: [1, 10] } }), // 9
    ];
    const uri = await write('problems.jsonl', `${lines.join('\n')}\n`);
    await openText(uri);
    const diags = await waitFor('the diagnostics', () => (ours(uri).length >= 6 ? ours(uri) : undefined));
    const byLine = diags
      .map((d) => ({ line: d.range.start.line + 1, severity: d.severity, message: d.message }))
      .sort((a, b) => a.line - b.line);
    assert.deepEqual(
      byLine.map((d) => d.line),
      [2, 3, 4, 5, 6, 7, 8],
      `one entry per bad line, none on the good lines or the final empty line: ${JSON.stringify(byLine)}`,
    );
    const at = (line: number) => byLine.find((d) => d.line === line)!;
    assert.match(at(2).message, /^Invalid record: invalid JSON/);
    assert.equal(at(2).severity, vscode.DiagnosticSeverity.Error);
    assert.equal(at(3).message, 'Invalid record: blank line');
    assert.equal(at(4).message, 'Invalid record: top-level value is an array, not an object');
    assert.equal(at(5).message, 'Field edits would lose information: duplicate key "text"');
    assert.equal(at(5).severity, vscode.DiagnosticSeverity.Warning);
    assert.match(at(6).message, /^Annotation layout: judge\.score: expected number, received string/);
    assert.equal(at(7).message, 'Annotation layout: label: expected a string, found an object');
    assert.match(at(8).message, /^Annotation layout: annotations\.suggestions\.label\.0\.score: expected number/);
    // The entry spans its line (what the squiggle underlines).
    assert.equal(at(2).line, diags.find((d) => d.message.includes('invalid JSON'))!.range.end.line + 1);
  });

  it('updates the Problems entries as the line is fixed', async () => {
    const uri = await write('fixing.jsonl', '{"text":"ok"}\n{"text": broken}\n');
    const editor = await openText(uri);
    await waitFor('the error', () => (ours(uri).length === 1 ? true : undefined));
    await editor.edit((b) => b.replace(editor.document.lineAt(1).range, '{"text":"repaired"}'));
    await waitFor('no error', () => (ours(uri).length === 0 ? true : undefined));
  });

  it('hovers a line with its label, model suggestion, judge score, reasons and rationale', async () => {
    const lines = await sampleLines();
    const first = JSON.parse(lines[0]!) as {
      label: string;
      rationale: string;
      judge: { score: number; reasons: string };
    };
    const uri = await write('hover.jsonl', `${lines.slice(0, 5).join('\n')}\n`);
    await openText(uri);
    const hovers = await waitFor('the hover', async () => {
      const hs = await vscode.commands.executeCommand<vscode.Hover[]>(
        'vscode.executeHoverProvider',
        uri,
        new vscode.Position(0, 10),
      );
      return hs.find((h) => rendered(h).includes('Label'));
    });
    const text = rendered(hovers);
    assert.match(text, new RegExp(`\\*\\*Label\\*\\* ${first.label}`));
    assert.match(text, /\*\*Model suggestion\*\* negative \(93%\) by gpt-4o-mini-2024-07-18/);
    assert.ok(text.includes(`**Judge score** ${first.judge.score} / 10`), text);
    assert.ok(text.includes(`**Judge reasons** ${first.judge.reasons}`), text);
    assert.ok(text.includes(`**Rationale** ${first.rationale}`), text);
    assert.ok(text.includes('**Review** reviewed'), text);
    // No hover of ours on a line that is not a record.
    const bad = await write('hover-bad.jsonl', 'not json\n');
    await openText(bad);
    const none = await vscode.commands.executeCommand<vscode.Hover[]>(
      'vscode.executeHoverProvider',
      bad,
      new vscode.Position(0, 2),
    );
    assert.ok(!none.some((h) => rendered(h).includes('**Label**')));
  });

  it('shows a CodeLens with label, score and review status, and a Relabel action, per record', async () => {
    const lines = await sampleLines();
    const uri = await write('lens.jsonl', `${lines.slice(0, 3).join('\n')}\nnot json\n`);
    await openText(uri);
    const lenses = await waitFor('the lenses', async () => {
      const ls = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100);
      return ls.length >= 6 ? ls : undefined;
    });
    const recs = lines
      .slice(0, 3)
      .map(
        (l) =>
          JSON.parse(l) as { label: string; judge: { score: number }; annotations: { review: { status: string } } },
      );
    for (let i = 0; i < 3; i++) {
      const here = lenses.filter((l) => l.range.start.line === i).map((l) => l.command);
      const r = recs[i]!;
      assert.ok(
        here.some((c) => c?.title === `${r.label} · score ${r.judge.score} · ${r.annotations.review.status}`),
        `line ${i + 1}: ${JSON.stringify(here)}`,
      );
      const relabel = here.find((c) => c?.title === 'Relabel');
      assert.equal(relabel?.command, 'datasetCurator.relabelLine');
      assert.deepEqual((relabel.arguments ?? []).map(String), [uri.toString(), String(i)]);
    }
    assert.equal(lenses.filter((l) => l.range.start.line === 3).length, 0, 'no lens on the invalid line');
  });

  it('relabels from the CodeLens: the quick pick offers the label set, the choice lands in the file', async () => {
    const lines = await sampleLines();
    const uri = await write('lens-relabel.jsonl', `${lines.slice(0, 3).join('\n')}\n`);
    const editor = await openText(uri);
    const [lens] = (
      await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100)
    ).filter((l) => l.range.start.line === 1 && l.command?.title === 'Relabel');
    assert.ok(lens?.command);
    // As a person: click the lens (run its command), then pick the first label in the quick pick.
    const done = vscode.commands.executeCommand(lens.command.command, ...(lens.command.arguments ?? []));
    await new Promise((r) => setTimeout(r, 500));
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    await done;
    const rec = await waitFor('the relabeled line', () => {
      const r = JSON.parse(editor.document.lineAt(1).text) as {
        label: string;
        annotations: { human?: { label?: { value: string } } };
      };
      return r.label !== (JSON.parse(lines[1]!) as { label: string }).label ||
        r.annotations.human?.label?.value === 'negative'
        ? r
        : undefined;
    });
    assert.equal(rec.label, 'negative', 'the first label of the set (negative, neutral, positive)');
    assert.equal(rec.annotations.human?.label?.value, 'negative');
    assert.equal(editor.document.lineAt(0).text, lines[0]);
    assert.equal(editor.document.lineAt(2).text, lines[2]);
  });

  it('offers quick fixes to relabel; applied and saved, only that line changes on disk', async () => {
    const lines = await sampleLines();
    const text = `${lines.slice(0, 6).join('\n')}\n`;
    const uri = await write('quickfix.jsonl', text);
    const editor = await openText(uri);
    const before = JSON.parse(lines[2]!) as { label: string; annotations: { suggestions: unknown } };
    const range = new vscode.Range(2, 5, 2, 5);
    const actions = await waitFor('the quick fixes', async () => {
      const as = await vscode.commands.executeCommand<vscode.CodeAction[]>(
        'vscode.executeCodeActionProvider',
        uri,
        range,
        vscode.CodeActionKind.QuickFix.value,
      );
      const mine = as.filter((a) => a.title.startsWith('Relabel as'));
      return mine.length ? mine : undefined;
    });
    const titles = actions.map((a) => a.title).sort();
    const others = ['negative', 'neutral', 'positive'].filter((l) => l !== before.label);
    assert.deepEqual(titles, others.map((l) => `Relabel as "${l}"`).sort(), 'every label but the current one');
    const target = others[0]!;
    const fix = actions.find((a) => a.title === `Relabel as "${target}"`)!;
    assert.equal(fix.kind?.value, vscode.CodeActionKind.QuickFix.value);
    assert.ok(fix.edit && (await vscode.workspace.applyEdit(fix.edit)));
    assert.ok(editor.document.isDirty);
    assert.ok(await editor.document.save());
    const after = Buffer.from(await vscode.workspace.fs.readFile(uri))
      .toString('utf8')
      .split('\n');
    const was = text.split('\n');
    assert.equal(after.length, was.length);
    after.forEach((l, i) => {
      if (i !== 2) assert.equal(l, was[i], `line ${i + 1} is untouched`);
    });
    const rec = JSON.parse(after[2]!) as {
      label: string;
      annotations: { suggestions: unknown; human: { label: { value: string } }; review: { status: string } };
    };
    assert.equal(rec.label, target);
    assert.equal(rec.annotations.human.label.value, target, 'the human decision is recorded');
    assert.equal(rec.annotations.review.status, 'reviewed');
    assert.deepEqual(rec.annotations.suggestions, before.annotations.suggestions, "the model's suggestion is kept");
  });

  it('offers no one-click relabel on a line that a rewrite would damage (lossy) or that is not a record', async () => {
    const uri = await write(
      'lossy.jsonl',
      '{"text":"big","id":12345678901234567890,"label":"a"}\nnot json\n{"text":"fine","label":"b"}\n',
    );
    await openText(uri);
    const at = async (line: number) =>
      (
        await vscode.commands.executeCommand<vscode.CodeAction[]>(
          'vscode.executeCodeActionProvider',
          uri,
          new vscode.Range(line, 1, line, 1),
          vscode.CodeActionKind.QuickFix.value,
        )
      ).filter((a) => a.title.startsWith('Relabel as'));
    assert.deepEqual(
      (await at(2)).map((a) => a.title),
      ['Relabel as "a"'],
      'a normal line gets the fix',
    );
    assert.deepEqual(await at(0), [], 'a lossy line does not');
    assert.deepEqual(await at(1), [], 'an invalid line does not');
    const diags = await waitFor('the lossy warning', () => ours(uri).find((d) => d.range.start.line === 0));
    assert.match(diags.message, /integer 12345678901234567890 is beyond 2\^53/);
  });

  it('above 200,000 lines stands down with one information entry that says why, and offers nothing per line', async () => {
    const n = 200_001;
    const text = Array.from({ length: n }, (_, i) => `{"i":${i}}`).join('\n');
    const uri = await write('many-lines.jsonl', `${text}\nnot json\n`);
    await openText(uri);
    const diags = await waitFor('the explanation', () => (ours(uri).length ? ours(uri) : undefined), 30_000);
    assert.equal(diags.length, 1, 'one entry, not one per line');
    assert.equal(diags[0]!.severity, vscode.DiagnosticSeverity.Information);
    assert.match(
      diags[0]!.message,
      /off for this file: 200,003 lines \(the limit is 200,000\)\. The Curation Editor reads files of any size/,
    );
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
      'vscode.executeHoverProvider',
      uri,
      new vscode.Position(5, 2),
    );
    assert.ok(!hovers.some((h) => rendered(h).includes('**Label**')));
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
    assert.equal(lenses.filter((l) => l.command?.command === 'datasetCurator.relabelLine').length, 0);
  });

  it('above 20 MB stands down the same way', async () => {
    const line = JSON.stringify({ text: 'x'.repeat(2000), label: 'a' });
    const count = Math.ceil((21 * 1024 * 1024) / (line.length + 1));
    const uri = await write('big-bytes.jsonl', `${Array.from({ length: count }, () => line).join('\n')}\n`);
    await openText(uri);
    const diags = await waitFor('the explanation', () => (ours(uri).length ? ours(uri) : undefined), 30_000);
    assert.equal(diags.length, 1);
    assert.match(diags[0]!.message, /off for this file: 21\.\d MB \(the limit is 20\.0 MB\)/);
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
      'vscode.executeCodeActionProvider',
      uri,
      new vscode.Range(3, 1, 3, 1),
    );
    assert.equal(actions.filter((a) => a.title.startsWith('Relabel as')).length, 0);
  });

  it('above 5,000 lines replaces the per-line CodeLens with one that says so; diagnostics and hovers stay', async () => {
    const uri = await write(
      'lens-limit.jsonl',
      `${Array.from({ length: 6000 }, (_, i) => JSON.stringify({ i, label: i % 2 ? 'a' : 'b' })).join('\n')}\n{oops\n`,
    );
    await openText(uri);
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 10);
    assert.equal(lenses.length, 1);
    assert.equal(lenses[0]!.range.start.line, 0);
    assert.match(lenses[0]!.command?.title ?? '', /no per-line CodeLens above 5,000 lines \(this file has 6,002\)/);
    const diags = await waitFor('the diagnostics', () => (ours(uri).length ? ours(uri) : undefined), 30_000);
    assert.deepEqual(
      diags.map((d) => d.range.start.line),
      [6000],
    );
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
      'vscode.executeHoverProvider',
      uri,
      new vscode.Position(4000, 2),
    );
    assert.ok(hovers.some((h) => rendered(h).includes('**Label** b')));
  });
});
