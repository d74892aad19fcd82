// "Label with a Cascade of Models…" (issue 16): the questions (the models from
// datasetCurator.llm.cascadeModels, the label set, the threshold, online), the core's cascade run
// against the loopback server: the small model labels every record, the large one only those the
// small one was unsure of, and what the large one is unsure of goes to the review queue.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { lastUserText, startOpenAIServer, type ChatBody, type OpenAITestServer } from '../support/openai-server';
import { activateExtension, scratchFile, waitFor } from './helpers';

type Rec = {
  id: number;
  label?: string;
  annotations?: {
    suggestions?: { label?: Array<{ agent?: string }> };
    review?: { status?: string; queue?: string };
  };
};

const onDisk = (uri: vscode.Uri): Rec[] =>
  readFileSync(uri.fsPath, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Rec);

describe('Label with a Cascade of Models', () => {
  const cfg = () => vscode.workspace.getConfiguration('datasetCurator');
  const G = vscode.ConfigurationTarget.Global;
  let server: OpenAITestServer | undefined;

  afterEach(async () => {
    for (const k of ['llm.baseUrl', 'llm.model', 'llm.cascadeModels', 'labels']) await cfg().update(k, undefined, G);
    await vscode.commands.executeCommand('notifications.clearAll');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await server?.close();
    server = undefined;
  });

  it('asks the models, labels, threshold and mode; the large model where the small one was unsure; the rest to review', async () => {
    await activateExtension();
    const s = (server = await startOpenAIServer());
    // small is sure of the even items; large of items 1 and 5 (i % 4 == 1); 3 and 7 go to review.
    s.respond = (req) => {
      const body = req.body as ChatBody;
      const i = Number(/cascade item (\d+)/.exec(lastUserText(body))?.[1]);
      const small = body.model === 'small';
      const confidence = small ? (i % 2 === 0 ? 0.95 : 0.4) : i % 4 === 1 ? 0.9 : 0.5;
      return {
        content: JSON.stringify({ label: small ? 'good' : 'bad', confidence, rationale: `${body.model} on ${i}` }),
      };
    };
    await cfg().update('llm.baseUrl', s.baseURL, G);
    await cfg().update('llm.model', 'm', G);
    await cfg().update('llm.cascadeModels', ['small', 'large'], G);
    await cfg().update('labels', ['good', 'bad'], G);
    const uri = await scratchFile(
      'cascade-run.jsonl',
      `${Array.from({ length: 8 }, (_, i) => JSON.stringify({ id: i, text: `cascade item ${i}` })).join('\n')}\n`,
    );
    void vscode.commands.executeCommand('datasetCurator.labelCascade', uri);
    // The questions, each pre-filled: the models, the label set, 0.8, online.
    await waitFor('the large model asked', async () => {
      await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
      return s.chatRequests().some((c) => c.body.model === 'large') ? true : undefined;
    });
    const done = (): Rec[] | undefined => {
      const recs = onDisk(uri);
      return recs.filter((r) => r.annotations?.review?.queue === 'low-confidence').length === 2 ? recs : undefined;
    };
    const recs = await waitFor('the review queue on disk', done);
    for (const r of recs) {
      const agents = (r.annotations?.suggestions?.label ?? []).map((x) => x.agent);
      if (r.id % 2 === 0) {
        assert.deepEqual(agents, ['small'], `item ${r.id}: the small model was sure`);
        assert.equal(r.label, 'good');
        assert.notEqual(r.annotations?.review?.queue, 'low-confidence', `item ${r.id}: not sent to review`);
      } else {
        assert.deepEqual(agents, ['small', 'large'], `item ${r.id}: escalated to the large model`);
        assert.equal(r.label, 'bad', `item ${r.id}: the large model's label in the small one's place`);
        const review = r.id % 4 === 3;
        assert.equal(r.annotations?.review?.queue === 'low-confidence', review, `item ${r.id}: review ${review}`);
        if (review) assert.equal(r.annotations?.review?.status, 'pending');
      }
    }
    assert.equal(s.chatRequests().filter((c) => c.body.model === 'large').length, 4, 'only what small was unsure of');
    assert.equal(s.batches.list().length, 0, 'online: no batch');
  });
});
