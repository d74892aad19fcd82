// Declared questions (.curator/questions.json, issue 20) in VS Code: a person's edits of each type
// through the curation editor's document (toggle, rate, move, text, span, accept, reject) go through
// VS Code's undo stack and to disk on save, the untouched line byte-identical; the text editor's
// Problems, hover and CodeLens name the question.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activateExtension, openInCurationEditor, waitFor, workspaceFolder } from './helpers';

const declaration = {
  questions: [
    { name: 'topics', type: 'multi-label', labels: ['billing', 'refund', 'shipping'] },
    { name: 'quality', type: 'rating', min: 1, max: 5 },
    { name: 'best', type: 'ranking', field: 'generations' },
    { name: 'fix', type: 'text', field: 'response' },
    { name: 'pii', type: 'span', field: 'text', labels: ['EMAIL', 'PHONE'] },
  ],
};
const text = 'Mail 😀 ana@example.com or call 555-0100 today.';
const first = {
  id: 1,
  text,
  generations: ['short', 'long'],
  response: 'Teh answer.',
  annotations: {
    suggestions: {
      quality: [{ value: 2, score: 0.7, agent: 'judge-model', type: 'model' }],
      pii: [{ value: [{ label: 'EMAIL', start: 7, end: 22, text: 'ana@example.com' }], agent: 'ner', type: 'model' }],
    },
  },
};
const untouched = '{"id": 2,  "text": "nothing to see", "generations": ["x", "y"], "response": "ok", "n": 1.50}';
// A model's span that does not cover what it says: a Problems entry naming the question.
const offText = JSON.stringify({
  id: 3,
  text: 'call me',
  annotations: {
    suggestions: { pii: [{ value: [{ label: 'PHONE', start: 0, end: 4, text: 'ring' }], agent: 'ner' }] },
  },
});

interface Saved {
  response: string;
  annotations: {
    human: Record<string, { value: unknown; status: string; user?: string }>;
    suggestions: Record<string, unknown>;
  };
}

async function dataset(name: string): Promise<vscode.Uri> {
  const dir = vscode.Uri.joinPath(workspaceFolder(), 'scratch', 'questions');
  await vscode.workspace.fs.writeFile(
    vscode.Uri.joinPath(dir, '.curator', 'questions.json'),
    Buffer.from(JSON.stringify(declaration, null, 2)),
  );
  const uri = vscode.Uri.joinPath(dir, name);
  await vscode.workspace.fs.writeFile(uri, Buffer.from(`${JSON.stringify(first)}\n${untouched}\n${offText}\n`));
  return uri;
}

const readLines = async (uri: vscode.Uri) =>
  Buffer.from(await vscode.workspace.fs.readFile(uri))
    .toString('utf8')
    .split('\n');

describe('Declared questions: edits per type, the text editor features', function () {
  this.timeout(120_000);
  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('edits of every type through the undo stack, saved to disk; undo takes the last one back', async () => {
    const api = await activateExtension();
    const uri = await dataset('edits.jsonl');
    const doc = await openInCurationEditor(api, uri);
    const shown = doc.session.record(0).questions ?? [];
    assert.deepEqual(
      shown.map((q) => q.question.name),
      ['topics', 'quality', 'best', 'fix', 'pii'],
    );
    assert.equal(shown[1]?.suggestions[0]?.agent, 'judge-model', "the model's suggestion beside the decision");

    doc.edit({ op: 'toggleLabel', index: 0, question: 'topics', label: 'billing' });
    doc.edit({ op: 'toggleLabel', index: 0, question: 'topics', label: 'shipping' });
    doc.edit({ op: 'answer', index: 0, question: 'quality', value: 4 });
    doc.edit({ op: 'moveCandidate', index: 0, question: 'best', candidate: '2', by: -1 });
    doc.edit({ op: 'answer', index: 0, question: 'fix', value: 'The answer.' });
    const phone = text.indexOf('555');
    doc.edit({ op: 'addSpan', index: 0, question: 'pii', label: 'PHONE', start: phone, end: phone + 8 });
    doc.edit({ op: 'accept', index: 0, question: 'pii', position: 0 }); // the model's EMAIL span, over the PHONE one
    assert.deepEqual(doc.session.record(0).questions?.[4]?.human?.value, first.annotations.suggestions.pii[0]?.value);
    assert.throws(() => doc.edit({ op: 'answer', index: 0, question: 'quality', value: 7 }), /outside 1-5/);

    // Undo (VS Code's) takes the accept back: the person's PHONE span again.
    await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
    await vscode.commands.executeCommand('undo');
    await waitFor('undo', () => {
      const v = doc.session.record(0).questions?.[4]?.human?.value as { label: string }[] | undefined;
      return v?.[0]?.label === 'PHONE' || undefined;
    });
    doc.edit({ op: 'reject', index: 0, question: 'quality' });
    await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
    await vscode.commands.executeCommand('undo');
    await waitFor(
      'undo the reject',
      () => doc.session.record(0).questions?.[1]?.human?.status === 'submitted' || undefined,
    );

    await vscode.commands.executeCommand('workbench.action.files.save');
    await waitFor('the save', () => !doc.isDirty || undefined);
    const lines = await readLines(uri);
    assert.equal(lines[1], untouched, 'the untouched record is byte-identical');
    assert.equal(lines[2], offText, 'so is the third');
    const saved = JSON.parse(lines[0] ?? '{}') as Saved;
    const human = saved.annotations.human;
    assert.deepEqual(human.topics?.value, ['billing', 'shipping']);
    assert.equal(human.quality?.value, 4);
    assert.deepEqual(human.best?.value, [
      { value: '2', rank: 1 },
      { value: '1', rank: 2 },
    ]);
    assert.equal(human.fix?.value, 'The answer.');
    assert.equal(saved.response, 'Teh answer.');
    assert.deepEqual(human.pii?.value, [{ label: 'PHONE', start: 31, end: 39, text: '555-0100' }]);
    assert.deepEqual(saved.annotations.suggestions, first.annotations.suggestions, 'the suggestions are kept');
  });

  it('Problems, hover and CodeLens name the question', async () => {
    await activateExtension();
    const uri = await dataset('text.jsonl');
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc, { preview: false });
    const ours = () => vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'Dataset Curator');
    const diag = await waitFor('the Problems entry', () => ours().find((d) => d.message.includes('Question')));
    assert.equal(diag.range.start.line, 2);
    assert.match(
      diag.message,
      /^Question "pii": the suggestion of ner does not fit: span 1 \(PHONE, 0-4\) says it covers "ring"/,
    );

    const hover = await waitFor('the hover', async () => {
      const hs = await vscode.commands.executeCommand<vscode.Hover[]>(
        'vscode.executeHoverProvider',
        uri,
        new vscode.Position(0, 5),
      );
      return hs
        .flatMap((h) =>
          h.contents.map((c) => (c instanceof vscode.MarkdownString ? c.value : typeof c === 'string' ? c : '')),
        )
        .find((t) => t.includes('Question'));
    });
    const plain = hover.replace(/&nbsp;/g, ' ').replace(/\\([\\`*_{}[\]()#+\-.!<>|~])/g, '$1');
    assert.ok(plain.includes('**Question** quality: no answer yet · judge-model suggests 2 (70%)'), plain);
    assert.ok(plain.includes('**Question** pii: no answer yet · ner suggests EMAIL "ana@example.com" 7-22'), plain);

    const lenses = await waitFor('the lenses', async () => {
      const ls = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100);
      return ls.length >= 6 ? ls : undefined;
    });
    const title = lenses.find((l) => l.range.start.line === 0 && l.command?.command === '')?.command?.title ?? '';
    assert.match(
      title,
      /topics: – · quality: 2 \(model\) · best: – · fix: – · pii: EMAIL "ana@example.com" 7-22 \(model\)/,
    );
  });
});
