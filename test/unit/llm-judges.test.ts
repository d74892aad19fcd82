// Several judges over the same file, over real HTTP with the real SDK: two models that answer
// differently; both verdicts stored in judges[], the panel's mean in judge, their agreement per
// record and over the file; a re-run from the cache sends zero requests and changes no byte; a
// third judge later asks only for its own verdicts. Plus the layout rules (upsert, a lone earlier
// judge kept, a new rubric makes a new panel, configurable field names).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { applyResult, type TaskResult } from '../../src/core/llm/apply-result';
import { JudgeOptions, LabelOptions, llmOperations } from '../../src/core/llm/tasks';
import { judgeAgreement, judgeScore, judgesDisagree } from '../../src/core/filter/thresholds';
import { compileRule, parseRule } from '../../src/core/filter/rules';
import { judgesAgreement } from '../../src/core/metrics/agreement';
import { quietContext } from '../../src/core/operation';
import { FieldMap, readAnnotation } from '../../src/core/schema/annotation';
import { lastUserText, startOpenAIServer, type OpenAITestServer } from '../support/openai-server';
import { tempDir } from './helpers/store';

let server: OpenAITestServer;
let dir: string;
const ops = llmOperations({ apiKey: () => 'sk-test' });

// What each judge says about record i: they agree on records 0, 2, 4, 5 and disagree on 1 and 3.
const SCORES: Record<string, number[]> = {
  'judge-a': [8, 7, 9, 6, 8, 5],
  'judge-b': [8, 2, 9, 1, 7, 5],
  'judge-c': [7, 3, 9, 2, 8, 6],
};
const recordOf = (text: string): number => Number(/review number (\d+)/.exec(text)?.[1] ?? -1);

before(async () => {
  server = await startOpenAIServer();
});
after(async () => {
  await server.close();
});
beforeEach(() => {
  server.reset();
  dir = tempDir('dc-judges-');
  server.respond = (req) => {
    const body = req.body as { model?: string; messages?: { role: string; content?: string }[] };
    const scores = SCORES[body.model ?? ''];
    if (!scores) return undefined;
    const i = recordOf(lastUserText(body));
    const score = scores[i] ?? 5;
    return {
      content: JSON.stringify({
        criteria: { correctness: score, clarity: Math.min(10, score + 1) },
        score,
        reasons: `${body.model} thinks ${score}`,
      }),
    };
  };
});

function dataset(n: number): string {
  const p = join(dir, 'data.jsonl');
  writeFileSync(
    p,
    `${Array.from({ length: n }, (_, i) => JSON.stringify({ id: i, text: `review number ${i}` })).join('\n')}\n`,
  );
  return p;
}
const lines = (p: string) =>
  readFileSync(p, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

describe('several judges', () => {
  test('two models judge every record: both verdicts kept, the mean in judge, agreement right; a re-run from the cache is free', async () => {
    const input = dataset(6);
    const out = join(dir, 'judged.jsonl');
    const opts = JudgeOptions.parse({
      input,
      output: out,
      baseURL: server.baseURL,
      model: 'judge-a',
      judgeModels: ['judge-a', 'judge-b'],
      criteria: ['correctness', 'clarity'],
      cacheDir: join(dir, 'cache'),
      concurrency: 3,
    });
    const progress: string[] = [];
    const s = await ops.judge.run(opts, { ...quietContext(), progress: (p) => p.message && progress.push(p.message) });
    assert.equal(s.ok, 12);
    assert.equal(s.requests, 12);
    assert.equal(s.model, 'judge-a, judge-b');
    assert.deepEqual(
      s.parts?.map((p) => [p.model, p.ok]),
      [
        ['judge-a', 6],
        ['judge-b', 6],
      ],
    );
    assert.deepEqual(new Set(server.chatRequests().map((r) => r.body.model)), new Set(['judge-a', 'judge-b']));
    assert.ok(
      progress.some((m) => /^judge 2 of 2 \(judge-b\) · record \d+ of 6/.test(m)),
      progress.join('\n'),
    );

    const recs = lines(out);
    recs.forEach((r, i) => {
      assert.deepEqual(
        r.judges.map((j: { model: string; score: number }) => [j.model, j.score]),
        [
          ['judge-a', SCORES['judge-a']![i]],
          ['judge-b', SCORES['judge-b']![i]],
        ],
      );
      for (const j of r.judges) {
        assert.match(j.provenance.prompt_hash, /^sha256:/);
        assert.equal(j.reasons, `${j.model} thinks ${j.score}`);
        assert.deepEqual(j.scale, [1, 10]);
      }
      const a = SCORES['judge-a']![i]!;
      const b = SCORES['judge-b']![i]!;
      assert.equal(r.judge.score, (a + b) / 2);
      assert.equal(r.judge.n, 2);
      assert.equal(r.judge.spread, Math.abs(a - b));
      assert.deepEqual(r.judge.models, ['judge-a', 'judge-b']);
      assert.equal(r.judge.criteria.correctness, (a + b) / 2);
      assert.equal(r.judge.reasons, `Mean of 2 judges: judge-a ${a}, judge-b ${b}.`);
      // what the editor shows: both judges side by side, and whether they disagree
      const view = readAnnotation(r);
      assert.deepEqual(
        view.judges.map((j) => j.model),
        ['judge-a', 'judge-b'],
      );
      assert.equal(view.otherJudges.length, 0);
      assert.equal(judgesDisagree(judgeAgreement(r)), i === 1 || i === 3, `record ${i}`);
    });
    // record 1: 7 and 2 on a 1-10 scale
    assert.deepEqual(judgeAgreement(recs[1]), { n: 2, mean: 4.5, spread: 5, stdev: 2.5, relativeSpread: 5 / 9 });

    // the file: agreement between the two judges
    const report = judgesAgreement(recs);
    assert.deepEqual(report.raters, ['judge-a', 'judge-b']);
    assert.equal(report.records, 6);
    assert.equal(report.pairs[0]?.n, 6);
    assert.equal(report.pairs[0].meanAbsoluteDifference, (0 + 5 + 0 + 5 + 1 + 0) / 6);

    // filters read the panel's verdict: judge.score >= 7 keeps the records whose mean is >= 7
    const keep = compileRule(parseRule('judge.score >= 7'));
    assert.deepEqual(
      recs.map((r, i) => (keep({ index: i, raw: '', value: r }) ? i : -1)).filter((i) => i >= 0),
      [0, 2, 4],
    );
    assert.equal(judgeScore(recs[3]), 3.5);
    const spread = compileRule(parseRule('judge.spread >= 3'));
    assert.deepEqual(
      recs.map((r, i) => (spread({ index: i, raw: '', value: r }) ? i : -1)).filter((i) => i >= 0),
      [1, 3],
    );

    // a re-run: answered by the cache, not one request, not one byte changed, no duplicate judge
    const bytes = readFileSync(out);
    server.reset();
    const again = await ops.judge.run(opts, quietContext());
    assert.equal(server.counts.total, 0);
    assert.equal(again.cached, 12);
    assert.equal(again.requests, 0);
    assert.ok(readFileSync(out).equals(bytes), 'the file is byte for byte the same');

    // a third judge later: only its own 6 requests; the others come from the cache
    server.respond = undefined;
    server.reset();
    server.respond = (req) => {
      const body = req.body as { model?: string };
      const i = recordOf(lastUserText(req.body as never));
      const score = SCORES[body.model ?? '']?.[i] ?? 5;
      return { content: JSON.stringify({ criteria: { correctness: score, clarity: score }, score, reasons: 'r' }) };
    };
    const three = await ops.judge.run({ ...opts, judgeModels: ['judge-a', 'judge-b', 'judge-c'] }, quietContext());
    assert.equal(server.counts.chat, 6);
    assert.deepEqual([...new Set(server.chatRequests().map((r) => r.body.model))], ['judge-c']);
    assert.equal(three.ok, 18);
    const r1 = lines(out)[1]!;
    assert.deepEqual(
      r1.judges.map((j: { model: string }) => j.model),
      ['judge-a', 'judge-b', 'judge-c'],
    );
    assert.equal(r1.judge.n, 3);
    assert.equal(r1.judge.score, 4);
    assert.equal(judgesAgreement(lines(out)).pairs.length, 3);
  });

  test('in place: a lone judge verdict already in the file is kept as the first judge (an earlier panel: its prompt is unknown)', async () => {
    const input = join(dir, 'data.jsonl');
    writeFileSync(
      input,
      `${JSON.stringify({ text: 'review number 0', judge: { score: 4, scale: [1, 10], reasons: 'an import', model: 'human-panel' } })}\n{"broken\n`,
    );
    const s = await ops.judge.run(
      JudgeOptions.parse({ input, inPlace: true, baseURL: server.baseURL, model: 'judge-a', noCache: true }),
      quietContext(),
    );
    assert.equal(s.ok, 1);
    assert.equal(s.skipped.length, 1);
    const [rec, broken] = readFileSync(input, 'utf8').split('\n');
    assert.equal(broken, '{"broken', 'the invalid line is untouched');
    const r = JSON.parse(rec!);
    assert.deepEqual(
      r.judges.map((j: { model: string; score: number }) => [j.model, j.score]),
      [
        ['human-panel', 4],
        ['judge-a', 8],
      ],
    );
    assert.equal(r.judge.score, 8);
    assert.equal(r.judge.model, 'judge-a');
    assert.deepEqual(
      readAnnotation(r).otherJudges.map((j) => j.model),
      ['human-panel'],
    );
  });
});

describe('curate judge --judge-models', () => {
  test('every judge scores every record; the summary says how they agree; --json carries each judge and the agreement', async () => {
    const { main } = await import('../../src/cli/main');
    const input = dataset(6);
    const out = join(dir, 'judged.jsonl');
    let stdout = '';
    let stderr = '';
    const io = {
      out: (t: string) => (stdout += t),
      err: (t: string) => (stderr += t),
      write: () => {},
      isTTY: false,
      signal: new AbortController().signal,
    };
    const args = [
      'judge',
      input,
      '--base-url',
      server.baseURL,
      '--judge-models',
      'judge-a,judge-b',
      '--rubric',
      'Is it useful?',
      '--criteria',
      'correctness,clarity',
      '--out',
      out,
      '--cache-dir',
      join(dir, 'cache'),
    ];
    assert.equal(await main(args, io), 0, stderr);
    assert.match(stderr, /judge: 6 record\(s\), about 12 request\(s\)/);
    assert.match(
      stdout,
      /^judge: 12 ok, 0 failed, 0 skipped \(invalid lines\), 0 from cache, 0 resumed; 12 request\(s\)/,
    );
    assert.match(stdout, /\n {2}judge-a: 6 ok, 0 failed, 0 from cache, 6 request\(s\)\n {2}judge-b: 6 ok/);
    assert.match(stdout, /agreement: the judges disagree on 2 of 6 record\(s\) \(spread >= 30% of the scale\)/);
    assert.match(
      stdout,
      /judge-a \/ judge-b: 6 records, Pearson [-\d.]+, Spearman [-\d.]+, mean abs\. difference 1\.83/,
    );
    assert.equal(
      readFileSync(input, 'utf8').includes('judges'),
      false,
      'the input is untouched: results went to --out',
    );
    assert.deepEqual(
      lines(out).map((r) => r.judges.length),
      [2, 2, 2, 2, 2, 2],
    );
    // again, as JSON: from the cache, each judge's summary and the agreement
    stdout = '';
    server.reset();
    assert.equal(await main([...args, '--json'], io), 0, stderr);
    assert.equal(server.counts.total, 0);
    const summary = JSON.parse(stdout) as {
      ok: number;
      cached: number;
      parts: { model: string }[];
      agreement: { records: number; disagree: number; raters: string[] };
    };
    assert.equal(summary.cached, 12);
    assert.deepEqual(
      summary.parts.map((p) => p.model),
      ['judge-a', 'judge-b'],
    );
    assert.deepEqual(
      [summary.agreement.records, summary.agreement.disagree, summary.agreement.raters],
      [6, 2, ['judge-a', 'judge-b']],
    );
    // --model given too: it is one of the judges; no --model and no --judge-models, and a server
    // serving several models (GET /v1/models): a clear error naming them
    stderr = '';
    server.models = ['judge-a', 'judge-b'];
    assert.equal(
      await main(['judge', input, '--base-url', server.baseURL, '--out', join(dir, 'x.jsonl')], {
        ...io,
        err: (t: string) => (stderr += t),
      }),
      2,
    );
    assert.match(stderr, /serves 2: judge-a, judge-b; name one with --model \(or CURATE_MODEL\)/);
  });
});

describe('the layout of judge results', () => {
  const verdict = (
    model: string,
    score: number,
    hash = 'sha256:r1',
    time = '2026-11-24T10:00:00.000Z',
  ): TaskResult => ({
    task: 'judge',
    question: 'judge',
    value: score,
    scale: [1, 10],
    reasons: `${model}: ${score}`,
    scores: {},
    provenance: { model, prompt_hash: hash, time, usage: { input_tokens: 10, output_tokens: 5 } },
  });

  test('one entry per judge model and prompt: re-applying (a resume) never duplicates', () => {
    const once = applyResult(applyResult({ text: 'x' }, verdict('a', 8)), verdict('b', 4));
    const twice = applyResult(applyResult(once, verdict('a', 8)), verdict('b', 4));
    assert.deepEqual(twice, once);
    assert.equal((once.judges as unknown[]).length, 2);
    // a re-run of a with the same prompt replaces a's verdict in place
    const rerun = applyResult(once, verdict('a', 6, 'sha256:r1', '2026-11-25T00:00:00.000Z'));
    assert.deepEqual(
      (rerun.judges as { model: string; score: number }[]).map((j) => [j.model, j.score]),
      [
        ['a', 6],
        ['b', 4],
      ],
    );
    assert.equal((rerun.judge as { score: number }).score, 5);
  });

  test('a new rubric makes a new panel: the earlier verdicts are kept but no longer count', () => {
    const old = applyResult(applyResult({ text: 'x' }, verdict('a', 8)), verdict('b', 2));
    const next = applyResult(old, verdict('a', 5, 'sha256:r2', '2026-11-26T00:00:00.000Z'));
    assert.equal((next.judges as unknown[]).length, 3);
    assert.deepEqual(next.judge, {
      score: 5,
      scale: [1, 10],
      reasons: 'a: 5',
      model: 'a',
      provenance: {
        model: 'a',
        prompt_hash: 'sha256:r2',
        time: '2026-11-26T00:00:00.000Z',
        usage: { input_tokens: 10, output_tokens: 5 },
      },
    });
    const view = readAnnotation(next);
    assert.deepEqual(
      view.judges.map((j) => j.model),
      ['a'],
    );
    assert.deepEqual(
      view.otherJudges.map((j) => [j.model, j.score]),
      [
        ['a', 8],
        ['b', 2],
      ],
    );
    assert.equal(judgeAgreement(next), undefined, 'one judge in the current panel: nothing to agree on');
    assert.equal(judgesAgreement([next]).records, 0);
  });

  test('configurable field names are honoured by every task result', () => {
    const fields = FieldMap.parse({
      label: 'category',
      rationale: 'why',
      judge: 'eval',
      judges: 'evals',
      annotations: 'meta',
    });
    const prov = { model: 'm', prompt_hash: 'sha256:x', time: 't', usage: { input_tokens: 1, output_tokens: 1 } };
    let r: Record<string, unknown> = { text: 'x' };
    r = applyResult(r, { task: 'label', question: 'label', value: 'spam', confidence: 0.9, provenance: prov }, fields);
    r = applyResult(
      r,
      { task: 'rationale', question: 'category', value: 'because', rationale: 'because', provenance: prov },
      fields,
    );
    r = applyResult(r, verdict('m', 3), fields);
    assert.deepEqual(Object.keys(r).sort(), ['category', 'eval', 'evals', 'meta', 'text', 'why']);
    const v = readAnnotation(r, fields);
    assert.equal(v.label, 'spam');
    assert.equal(v.rationale, 'because');
    assert.equal(v.rationaleProvenance?.model, 'm');
    assert.equal(v.judgeScore, 3);
    assert.equal(v.suggestions.find((s) => s.question === 'label')?.value, 'spam');
  });

  test('a model label never overwrites a human decision; the label task and a consistency vote of one model sit side by side', async () => {
    const input = dataset(2);
    const base = {
      input,
      baseURL: server.baseURL,
      model: 'labeler',
      labels: ['positive', 'negative'],
      noCache: true,
      inPlace: true,
    };
    server.respond = () => ({ content: JSON.stringify({ label: 'negative', confidence: 0.7, rationale: 'r' }) });
    await ops.label.run(LabelOptions.parse(base), quietContext());
    await ops.consistency.run(ops.consistency.options.parse({ ...base, k: 3 }), quietContext());
    const r = lines(input)[0]!;
    assert.deepEqual(
      r.annotations.suggestions.label.map((s: { agent: string; provenance: { task?: string }; value: string }) => [
        s.agent,
        s.provenance.task ?? 'label',
        s.value,
      ]),
      [
        ['labeler', 'label', 'negative'],
        ['labeler', 'consistency', 'negative'],
      ],
    );
    assert.equal(r.annotations.suggestions.label[1].score, 1);
    assert.equal(r.annotations.suggestions.label[1].samples.length, 3);
  });
});
