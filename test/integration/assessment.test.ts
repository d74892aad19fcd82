import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activateExtension, openInCurationEditor as openDoc, scratchFile as scratch, waitFor } from './helpers';
import { startOpenAIServer } from '../support/openai-server';
import { AgreementPayload } from '../../src/shared/protocol';

async function undo(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
  await vscode.commands.executeCommand('undo');
}

const tagsOf = (v: unknown) => (v as { annotations?: { tags?: string[] } }).annotations?.tags ?? [];

describe('Assessment: the agreement report, duplicate clusters, the review queue', () => {
  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('keeps the agreement report live through a relabel and its undo', async () => {
    const api = await activateExtension();
    const uri = await scratch('agreement.jsonl');
    const doc = await openDoc(api, uri);
    const a = api.editors.assessment.for(doc);
    const before = await a.agreement({ question: 'label' });
    const c = before.comparisons[0];
    assert.equal(c?.reference, 'human');
    // The sample: 24 records with a human decision and a suggestion; they disagree on line 1 only.
    assert.equal(c.metrics.n, 24);
    assert.equal(c.metrics.accuracy, 23 / 24);
    // Line 1: the human said positive, the model negative. The person changes their mind: negative.
    doc.edit({ op: 'relabel', index: 0, label: 'negative' });
    const after = await a.agreement({ question: 'label' });
    assert.equal(after.comparisons[0]?.metrics.accuracy, 1);
    assert.equal(after.comparisons[0].metrics.kappa, 1);
    await undo();
    await waitFor('the undo', async () =>
      (await a.agreement({ question: 'label' })).comparisons[0]?.metrics.accuracy === 23 / 24 ? true : undefined,
    );
    // Against a gold field: the current label as gold, so gold vs human agrees wherever a person decided.
    const gold = await a.agreement({ question: 'label', goldField: 'label' });
    assert.deepEqual(
      gold.comparisons.map((x) => `${x.reference}/${x.prediction}`),
      ['human/suggestion', 'field:label/suggestion', 'field:label/human', 'field:label/label'],
    );
    assert.equal(gold.comparisons[2]?.metrics.accuracy, 1);
  });

  it("shows agreement between people in the report (Cohen's kappa per pair, Fleiss, Krippendorff), live as another person decides", async () => {
    const api = await activateExtension();
    // maria and bob: (pos,pos) (neg,neg) (pos,neg); ana decided record 2 as neg too, and record 4 alone.
    const people: [string, string][][] = [
      [
        ['maria', 'pos'],
        ['bob', 'pos'],
      ],
      [
        ['maria', 'neg'],
        ['bob', 'neg'],
        ['ana', 'neg'],
      ],
      [
        ['maria', 'pos'],
        ['bob', 'neg'],
      ],
      [['ana', 'pos']],
    ];
    const lines = people.map((ps, i) => {
      const [user, value] = ps.at(-1)!;
      return JSON.stringify({
        id: i + 1,
        text: `review ${i + 1}`,
        label: value,
        annotations: {
          suggestions: { label: [{ value: 'pos', agent: 'm', type: 'model', score: 0.9 }] },
          human: { label: { value, user, status: 'submitted' } },
          ...(ps.length > 1
            ? { decisions: { label: ps.map(([u, v]) => ({ value: v, user: u, status: 'submitted' })) } }
            : {}),
        },
      });
    });
    const uri = await scratch('people.jsonl', `${lines.join('\n')}\n`);
    const doc = await openDoc(api, uri);
    const a = api.editors.assessment.for(doc);
    const r = AgreementPayload.parse(await a.agreement({ question: 'label' }));
    const p = r.people;
    assert.ok(p, 'the report has the people section');
    assert.deepEqual(p.people, [
      { user: 'bob', decided: 3 },
      { user: 'maria', decided: 3 },
      { user: 'ana', decided: 2 },
    ]);
    assert.equal(p.shared, 3);
    assert.equal(p.disagreements, 1);
    const bm = p.pairs.find((x) => x.a === 'bob' && x.b === 'maria');
    assert.equal(bm?.n, 3);
    // p_o 2/3, p_e 4/9: kappa 0.4; Fleiss 23/72; Krippendorff (nominal) 0.5 (test/unit/git-annotators.test.ts)
    assert.ok(Math.abs((bm.kappa ?? NaN) - 0.4) < 1e-12);
    assert.ok(Math.abs((p.fleissKappa ?? NaN) - 23 / 72) < 1e-12);
    assert.ok(Math.abs((p.krippendorffAlpha ?? NaN) - 0.5) < 1e-12);
    // carol decides record 3 in this editor: the report follows the edit, and its undo
    const cfg = vscode.workspace.getConfiguration('datasetCurator');
    await cfg.update('annotator', 'carol', vscode.ConfigurationTarget.Global);
    try {
      doc.edit({ op: 'relabel', index: 2, label: 'pos' });
      const after = await a.agreement({ question: 'label' });
      assert.deepEqual(
        after.people?.people.find((x) => x.user === 'carol'),
        { user: 'carol', decided: 1 },
      );
      assert.equal(after.people.shared, 3);
      // units (pos,pos) (neg,neg,neg) (pos,neg,pos): Fleiss (7/9 − 1/2)/(1/2) = 5/9
      assert.ok(Math.abs((after.people.fleissKappa ?? NaN) - 5 / 9) < 1e-12);
      await undo();
      await waitFor('the undo', async () =>
        (await a.agreement({ question: 'label' })).people?.people.some((x) => x.user === 'carol') === false
          ? true
          : undefined,
      );
    } finally {
      await cfg.update('annotator', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it('finds near-duplicates, tags the others as one undoable edit, deletes them, and undo brings them back into their clusters', async () => {
    const api = await activateExtension();
    const base =
      'The hinge on the lid snapped after two weeks of normal daily use and the replacement part is not sold anywhere';
    const lines = [
      { id: 'a', text: base },
      { id: 'b', text: 'Fast delivery, well packed, and the colour is exactly as pictured on the product page.' },
      { id: 'c', text: `${base}.` },
      {
        id: 'd',
        text: 'Completely different review about a kettle that boils water quickly and quietly every morning.',
      },
      { id: 'e', text: `${base} at all` },
    ];
    const uri = await scratch('dups.jsonl', `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    const doc = await openDoc(api, uri);
    const found = await api.editors.assessment.findDuplicates(doc, { method: 'near', threshold: 0.7 });
    assert.ok(found);
    assert.equal(found.clusters, 1);
    assert.deepEqual(
      found.page[0]?.members.map((m) => m.index),
      [0, 2, 4],
    );
    assert.equal(found.page[0].representative, 0);
    const a = api.editors.assessment.for(doc);
    // Keep line 3 instead of line 1: lines 1 and 5 get the tag, in one undoable edit.
    const r = a.resolve({ clusters: [found.page[0].id], keep: { [String(found.page[0].id)]: 2 }, action: 'tag' });
    assert.equal(r.changed, 2);
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((i) => tagsOf(doc.store.line(i).value)),
      [['duplicate'], [], [], [], ['duplicate']],
    );
    assert.equal(a.duplicates(0, 50)?.resolved, 1);
    await undo();
    await waitFor('the undo of the tags', () =>
      tagsOf(doc.store.line(0).value).length === 0 && tagsOf(doc.store.line(4).value).length === 0 ? true : undefined,
    );
    // Delete the others: two lines go; the cluster shows the one left; undo brings both back.
    a.resolve({ clusters: 'all', keep: {}, action: 'delete' });
    assert.equal(doc.store.lineCount, 3);
    assert.deepEqual(
      a.duplicates(0, 50)?.page[0]?.members.map((m) => m.index),
      [0],
    );
    await undo();
    await waitFor('the undo of the delete', () => (doc.store.lineCount === 5 ? true : undefined));
    assert.deepEqual(
      a.duplicates(0, 50)?.page[0]?.members.map((m) => m.index),
      [0, 2, 4],
    );
    assert.equal(a.duplicates(0, 50)?.stale, false);
  });

  it('sends low-confidence records to the review queue as one undoable edit; the queue is searchable and counted live', async () => {
    const api = await activateExtension();
    const uri = await scratch('queue.jsonl');
    const doc = await openDoc(api, uri);
    const text = Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
    const recs = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { annotations: { human?: unknown; suggestions: { label: { score: number }[] } } });
    const expected = recs.flatMap((r, i) =>
      !r.annotations.human && (r.annotations.suggestions.label[0]?.score ?? 0) < 0.8 ? [i] : [],
    );
    const a = api.editors.assessment.for(doc);
    const sent = await a.sendToReview(0.8);
    assert.equal(sent?.sent, expected.length);
    assert.deepEqual(
      (await doc.session.search({ query: { inQueue: true }, from: 0, direction: 'forward', limit: 1000 })).matches,
      expected,
    );
    assert.equal((await a.queue()).total, expected.length);
    // Reviewing one takes it out of the queue.
    doc.edit({ op: 'relabel', index: expected[0]!, label: 'neutral' });
    assert.equal((await a.queue()).total, expected.length - 1);
    await undo();
    await waitFor('the undo', async () => ((await a.queue()).total === expected.length ? true : undefined));
    // The send was one step: one more undo empties the queue. (Asked again if VS Code's undo service
    // was still busy with the last one; nothing is left to undo past it.)
    let asked = 0;
    await waitFor('the queue emptied by undo', async () => {
      if ((await a.queue()).total === 0) return true;
      if (asked++ % 30 === 0) await undo();
      return undefined;
    });
    assert.equal(doc.isDirty, false);
  });

  it('finds semantic duplicates through the endpoint in the settings, and a second search is answered from the cache', async () => {
    const api = await activateExtension();
    const server = await startOpenAIServer({ embeddingDims: 64 });
    const cfg = vscode.workspace.getConfiguration('datasetCurator');
    try {
      await cfg.update('llm.baseUrl', server.baseURL, vscode.ConfigurationTarget.Global);
      await cfg.update('llm.embeddingModel', 'test-embed', vscode.ConfigurationTarget.Global);
      const paraphrases = ['The battery lasts two whole days.', 'Battery life is easily forty-eight hours.'];
      server.plantEmbeddings([paraphrases], 0.96);
      const texts = [
        'Great sound for the price.',
        paraphrases[0],
        'The strap feels cheap.',
        paraphrases[1],
        'Too heavy for running.',
      ];
      const uri = await scratch(
        'semantic.jsonl',
        `${texts.map((text, i) => JSON.stringify({ id: i, text })).join('\n')}\n`,
      );
      const doc = await openDoc(api, uri);
      const found = await api.editors.assessment.findDuplicates(doc, { method: 'semantic', threshold: 0.92 });
      assert.equal(found?.clusters, 1);
      assert.deepEqual(
        found.page[0]?.members.map((m) => m.index),
        [1, 3],
      );
      assert.equal(found.page[0].kind, 'semantic');
      const sent = server.counts.embeddings;
      assert.ok(sent >= 1);
      assert.equal(
        (server.requests.find((r) => r.path === '/v1/embeddings')?.body as { model?: string }).model,
        'test-embed',
      );
      const again = await api.editors.assessment.findDuplicates(doc, { method: 'semantic', threshold: 0.92 });
      assert.deepEqual(
        again?.page[0]?.members.map((m) => m.index),
        [1, 3],
      );
      assert.equal(server.counts.embeddings, sent, 'the second search sent nothing');
    } finally {
      await cfg.update('llm.baseUrl', undefined, vscode.ConfigurationTarget.Global);
      await cfg.update('llm.embeddingModel', undefined, vscode.ConfigurationTarget.Global);
      await server.close();
    }
  });
});
