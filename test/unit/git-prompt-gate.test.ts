// The prompt gate (`curate eval-prompt`): the label prompt re-run on records people decided, against
// the loopback OpenAI-compatible server (real SDK, real HTTP), one or two template folders.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  startOpenAIServer,
  lastUserText,
  contentText,
  type ChatBody,
  type OpenAITestServer,
} from '../support/openai-server';
import { tempDir } from './helpers/store';
import { curateAsync } from './helpers/git';
import type { PromptGateReport } from '../../src/core/git/prompt-gate';

let server: OpenAITestServer;

before(async () => {
  server = await startOpenAIServer();
  // A model that follows the prompt: "great" reads as positive, unless the system prompt says otherwise.
  server.respond = (req) => {
    if (req.path !== '/v1/chat/completions') return undefined;
    const chat = req.body as ChatBody;
    const system = contentText(chat.messages?.find((m) => m.role === 'system')?.content);
    const label = /always answer negative/i.test(system)
      ? 'negative'
      : /great/i.test(lastUserText(chat))
        ? 'positive'
        : 'negative';
    return { content: JSON.stringify({ label, confidence: 0.9, rationale: 'because' }) };
  };
});
after(() => server.close());

const decided = (i: number) => {
  const positive = i % 2 === 0;
  const text = positive ? `great product ${i}` : `broke after a day ${i}`;
  const label = positive ? 'positive' : 'negative';
  return {
    id: i,
    text,
    label,
    annotations: { human: { label: { value: label, user: 'maria', status: 'submitted' } } },
  };
};

function dataset(): { dir: string; file: string; bad: string; good: string } {
  const dir = tempDir('dc-gate-');
  const file = join(dir, 'train.jsonl');
  const recs = [
    ...Array.from({ length: 10 }, (_, i) => decided(i)),
    { id: 100, text: 'great but undecided' },
    { id: 101, text: 'draft', annotations: { human: { label: { value: 'positive', status: 'draft' } } } },
  ];
  writeFileSync(file, recs.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const good = join(dir, 'prompts-good');
  const bad = join(dir, 'prompts-bad');
  mkdirSync(good);
  mkdirSync(bad);
  const template = (extra: string) =>
    `---\nversion: 2\n---\n# system\nLabel the record with one of: {{labels}}.${extra}\nGive a confidence and a rationale.\n# user\nRecord:\n{{record}}\n`;
  writeFileSync(join(good, 'label.md'), template(''));
  writeFileSync(join(bad, 'label.md'), template(' Always answer negative.'));
  return { dir, file, bad, good };
}

const endpoint = () => ['--base-url', `${server.url}/v1`, '--model', 'test-model'];

describe('curate eval-prompt', () => {
  test('passes when the model agrees with people; the cache makes the second run free', async () => {
    const { dir, file } = dataset();
    const r = await curateAsync(dir, [
      'eval-prompt',
      file,
      '--labels',
      'positive,negative',
      '--min-kappa',
      '0.7',
      ...endpoint(),
    ]);
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.out, /10 record\(s\) a person decided \(label\)/);
    assert.match(
      r.out,
      /\(default\)\s+built-in label prompt v1 \(sha256:[0-9a-f]+\)\s+10\s+1\.000\s+1\.000\s+1\.000\s+0\s+0\s+pass/,
    );
    assert.match(r.out, /gate: kappa >= 0.7: pass/);
    const calls = server.counts.chat;
    const again = await curateAsync(dir, [
      'eval-prompt',
      file,
      '--labels',
      'positive,negative',
      '--min-kappa',
      '0.7',
      '--json',
      ...endpoint(),
    ]);
    assert.equal(again.code, 0, again.err);
    const report = JSON.parse(again.out) as PromptGateReport;
    assert.equal(report.runs[0]!.cached, 10);
    assert.equal(server.counts.chat, calls, 'no request the second time');
    assert.equal(readFileSync(file, 'utf8').includes('suggestions'), false, 'the file is not written');
  });

  test('two template folders side by side: a table, and exit 1 when one falls below the bar', async () => {
    const { dir, file, good, bad } = dataset();
    const r = await curateAsync(dir, [
      'eval-prompt',
      file,
      '--labels',
      'positive,negative',
      '--min-kappa',
      '0.7',
      '--prompts-dir',
      good,
      '--prompts-dir',
      bad,
      ...endpoint(),
    ]);
    assert.equal(r.code, 1, r.err + r.out);
    const rows = r.out.split('\n');
    assert.match(rows[1]!, /^prompts\s+template\s+n\s+accuracy\s+kappa\s+macro F1\s+failed\s+cached\s+verdict$/);
    assert.match(rows[2]!, /prompts-good\s+.*label\.md v2 .*\s+10\s+1\.000\s+1\.000\s+1\.000\s+0\s+0\s+pass$/);
    assert.match(rows[3]!, /prompts-bad\s+.*label\.md v2 .*\s+10\s+0\.500\s+0\.000\s+0\.333\s+0\s+0\s+FAIL$/);
    assert.match(r.out, /gate: kappa below 0.7 for .*prompts-bad: FAIL/);
  });

  test('bad input: no decided record, too few labels, a missing folder', async () => {
    const dir = tempDir('dc-gate-');
    const file = join(dir, 'none.jsonl');
    writeFileSync(file, '{"text":"x"}\n');
    const none = await curateAsync(dir, ['eval-prompt', file, '--labels', 'a,b', ...endpoint()]);
    assert.equal(none.code, 1);
    assert.match(none.err, /no record a person decided/);
    assert.equal((await curateAsync(dir, ['eval-prompt', file, '--labels', 'a', ...endpoint()])).code, 2);
    const missing = await curateAsync(dir, [
      'eval-prompt',
      file,
      '--labels',
      'a,b',
      '--prompts-dir',
      join(dir, 'nope'),
      ...endpoint(),
    ]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /no such folder/);
  });
});
