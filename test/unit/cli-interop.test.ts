// The `curate` CLI as a user moving data between tools runs it: export and import exit 1 writing
// nothing when no row can be written (with the reasons), the fine-tune readiness report, convert
// to and from Parquet, LLaMA-Factory's dataset_info.json. The CLI is bundled as `npm run build`
// does (its tokenizer and Parquet bundles beside it, loaded on first use), then run as a process.
import { before, describe, test } from 'node:test';
import { spawnSync } from 'node:child_process';
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { root, tempDir } from './helpers/store';
import { bundle } from './helpers/bundle';

let cli = '';
before(async () => {
  cli = join(await bundle({ cli: 'src/cli/main.ts' }), 'cli.js');
});

function curate(args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}
import { ReadinessCheck, rowTokens, fineTuneModel, describeReadiness } from '../../src/core/export/readiness';
import { countChatTokens, countTokens, encodingFor } from '../../src/core/llm/tokenizer';

const sample = join(root, 'samples', 'reviews.jsonl');

describe('curate export / import / convert', () => {
  test('export to a format the records cannot fill exits 1, writes nothing and says why (the sample as SFT)', () => {
    const dir = tempDir('dc-cli-interop-');
    const out = join(dir, 'sft.jsonl');
    const r = curate(['export', sample, '--format', 'sft', '--out', out]);
    assert.equal(r.code, 1, r.err);
    assert.equal(existsSync(out), false, 'no empty training file');
    assert.match(r.err, /no sft row written .*36 record\(s\) skipped/);
    assert.match(r.err, /36 record\(s\): no messages, instruction\/output or prompt\/response fields/);
    assert.match(r.err, /line 1: no messages/);
    const i = curate(['import', sample, '--format', 'dpo', '--out', join(dir, 'dpo.jsonl')]);
    assert.equal(i.code, 1);
    assert.equal(existsSync(join(dir, 'dpo.jsonl')), false);
    assert.match(i.err, /no row imported .*36 row\(s\) are not dpo/);
    assert.match(i.err, /line 1: prompt: Invalid input/);
    // the same sample as Argilla records: every record is one
    const a = curate(['export', sample, '--format', 'argilla', '--out', join(dir, 'argilla.jsonl')]);
    assert.equal(a.code, 0, a.err);
    assert.match(a.out, /wrote 36 argilla row\(s\)/);
    const first = JSON.parse(readFileSync(join(dir, 'argilla.jsonl'), 'utf8').split('\n')[0]!);
    assert.deepEqual(Object.keys(first), [
      'id',
      'fields',
      'metadata',
      'suggestions',
      'responses',
      'vectors',
      'status',
      '_server_id',
    ]);
  });

  test('fine-tune readiness: tokens per row against the context, rows that would be cut, training tokens and cost', () => {
    const dir = tempDir('dc-cli-ready-');
    const file = join(dir, 'chats.jsonl');
    const long = 'lorem ipsum '.repeat(200);
    writeFileSync(
      file,
      [
        {
          messages: [
            { role: 'user', content: 'hello world' },
            { role: 'assistant', content: 'hi' },
          ],
        },
        {
          messages: [
            { role: 'user', content: long },
            { role: 'assistant', content: 'ok' },
          ],
        },
      ]
        .map((x) => JSON.stringify(x))
        .join('\n') + '\n',
    );
    const r = curate([
      'export',
      file,
      '--format',
      'sft',
      '--out',
      join(dir, 'o.jsonl'),
      '--model',
      'gpt-4o-mini-2024-07-18',
      '--context-length',
      '100',
      '--json',
    ]);
    assert.equal(r.code, 0, r.err);
    const rep = JSON.parse(r.out) as { readiness: Record<string, unknown> };
    const t1 = countChatTokens([
      { role: 'user', content: 'hello world' },
      { role: 'assistant', content: 'hi' },
    ]);
    const t2 = countChatTokens([
      { role: 'user', content: long },
      { role: 'assistant', content: 'ok' },
    ]);
    assert.equal(rep.readiness.model, 'gpt-4o-mini-2024-07-18');
    assert.equal(rep.readiness.encoding, 'o200k_base');
    assert.equal(rep.readiness.totalTokens, t1 + t2);
    assert.equal(rep.readiness.maxTokens, t2);
    assert.equal(rep.readiness.overLimit, 1);
    assert.deepEqual(rep.readiness.overLimitRows, [{ index: 1, tokens: t2 }]);
    assert.equal(rep.readiness.trainingTokens, (t1 + t2) * 3);
    assert.equal(
      rep.readiness.estimatedCost,
      Math.round((((t1 + t2) * 3) / 1e6) * 3 * 100) / 100,
      "gpt-4o-mini's $3 per million training tokens",
    );
    assert.deepEqual(rep.readiness.warnings, [
      '2 example(s): OpenAI fine-tuning needs at least 10',
      '1 example(s) over the 100-token context would be cut from the end',
    ]);
    const text = curate([
      'export',
      file,
      '--format',
      'sft',
      '--out',
      join(dir, 'o2.jsonl'),
      '--context-length',
      '100',
      '--price',
      '10',
      '--epochs',
      '2',
    ]);
    assert.match(text.out, /1 row\(s\) over the 100-token context would be cut: line 2 \(\d+\)/);
    assert.match(
      text.out,
      new RegExp(`${(t1 + t2) * 2} training tokens over 2 epoch\\(s\\), about \\$0\\.\\d\\d at \\$10/1M`),
    );
    assert.match(text.out, /warning: 2 example\(s\): OpenAI fine-tuning needs at least 10/);
    const off = curate([
      'export',
      file,
      '--format',
      'sft',
      '--out',
      join(dir, 'o3.jsonl'),
      '--skip-readiness',
      '--json',
    ]);
    assert.equal((JSON.parse(off.out) as { readiness?: unknown }).readiness, undefined);
  });

  test('convert Parquet <-> JSONL; the LLaMA-Factory entry; usage errors', () => {
    const dir = tempDir('dc-cli-pq-');
    const file = join(dir, 'a.jsonl');
    writeFileSync(
      file,
      `${JSON.stringify({
        id: 1,
        messages: [
          { role: 'user', content: 'a' },
          { role: 'assistant', content: 'b' },
        ],
        big: 12345678901234567000,
      })}\n`,
    );
    // 12345678901234567000 is past INT64: kept as the double it is
    const pq = curate(['convert', file, '--out', join(dir, 'a.parquet')]);
    assert.equal(pq.code, 0, pq.err);
    assert.match(pq.err, /1 record\(s\), 3 column\(s\)/);
    const back = curate(['convert', join(dir, 'a.parquet'), '--out', join(dir, 'b.jsonl')]);
    assert.equal(back.code, 0, back.err);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'b.jsonl'), 'utf8')), JSON.parse(readFileSync(file, 'utf8')));
    assert.equal(
      curate(['convert', join(dir, 'a.parquet'), '--out', join(dir, 'b.jsonl')]).code,
      2,
      'an existing --out needs --force',
    );
    assert.equal(curate(['convert', file, '--out', join(dir, 'c.jsonl')]).code, 2, 'JSONL to JSONL is no conversion');
    writeFileSync(join(dir, 'bad.parquet'), 'PAR1 not really');
    const bad = curate(['convert', join(dir, 'bad.parquet'), '--out', join(dir, 'bad.jsonl')]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /is not a Parquet file/);
    const lf = curate(['export', file, '--format', 'sharegpt', '--out', join(dir, 'train.sharegpt.json')]);
    assert.equal(lf.code, 0, lf.err);
    assert.match(lf.out, /wrote .*dataset_info\.json/);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'dataset_info.json'), 'utf8')), {
      'train.sharegpt': {
        file_name: 'train.sharegpt.json',
        formatting: 'sharegpt',
        columns: { messages: 'conversations' },
      },
    });
  });
});

test('.jsonl.gz and Parquet inputs: filter and split read them; stats, get, set and in-place edits say to convert first', () => {
  const dir = tempDir('dc-cli-inputs-');
  const gz = join(dir, 't.jsonl.gz');
  writeFileSync(gz, gzipSync('{"text":"a"}\n{"text":"bb"}\n'));
  const f = curate(['filter', gz, '--where', 'len(text) >= 2', '--out', join(dir, 'f.jsonl')]);
  assert.equal(f.code, 0, f.err);
  assert.equal(readFileSync(join(dir, 'f.jsonl'), 'utf8'), '{"text":"bb"}\n');
  const tag = curate(['filter', gz, '--where', 'len(text) >= 2', '--tag', 'x']);
  assert.equal(tag.code, 2);
  assert.match(tag.err, /--tag edits the file in place, and .* is not JSONL/);
  const st = curate(['stats', gz]);
  assert.equal(st.code, 2);
  assert.match(
    st.err,
    /is gzip-compressed JSONL, not JSONL: convert it first with "curate convert .*t\.jsonl\.gz --out .*t\.jsonl"/,
  );
  const pq = join(dir, 'chats.parquet');
  writeFileSync(pq, readFileSync(join(root, 'test', 'fixtures', 'parquet', 'chats.parquet')));
  const get = curate(['get', pq, '--line', '1']);
  assert.equal(get.code, 2);
  assert.match(get.err, /is Parquet, not JSONL/);
  const sft = curate(['export', pq, '--format', 'sft', '--out', join(dir, 'sft.jsonl'), '--json']);
  assert.equal(sft.code, 0, sft.err);
  assert.equal((JSON.parse(sft.out) as { written: number }).written, 3, 'a Hub chat dataset is SFT data as it is');
});

test('tokenizer: OpenAI encodings by model; chat framing as the cookbook counts it', () => {
  assert.equal(encodingFor('gpt-4o-mini-2024-07-18'), 'o200k_base');
  assert.equal(encodingFor('gpt-4.1-nano'), 'o200k_base');
  assert.equal(encodingFor('gpt-3.5-turbo-0125'), 'cl100k_base');
  assert.equal(encodingFor('gpt-4-0613'), 'cl100k_base');
  assert.equal(encodingFor('ft:gpt-4o-mini-2024-07-18:org::abc'), 'o200k_base');
  // 3 per message + its role and content, 3 priming the reply
  assert.equal(
    countChatTokens([{ role: 'user', content: 'hello world' }]),
    3 + 3 + countTokens('user') + countTokens('hello world'),
  );
  assert.equal(
    fineTuneModel('gpt-4.1-mini-2025-04-14')?.pricePerMillion,
    5,
    'the longest matching name wins over gpt-4.1',
  );
  assert.equal(fineTuneModel('llama3'), undefined);
  const c = new ReadinessCheck({ model: 'llama3', contextLength: 10 });
  c.add({ prompt: 'hello world', completion: 'hi' }, 0);
  const r = c.result();
  assert.equal(r.totalTokens, countTokens('hello world') + countTokens('hi'));
  assert.equal(r.estimatedCost, undefined);
  assert.match(describeReadiness(r), /no price known for this model: give its training price per million tokens/);
  assert.equal(
    rowTokens(
      {
        input: { messages: [{ role: 'user', content: 'a' }] },
        preferred_output: [{ role: 'assistant', content: 'b' }],
        non_preferred_output: [{ role: 'assistant', content: 'c' }],
      },
      'o200k_base',
    ),
    countChatTokens([
      { role: 'user', content: 'a' },
      { role: 'assistant', content: 'b' },
    ]) +
      countChatTokens([{ role: 'assistant', content: 'c' }]) -
      3,
  );
});
