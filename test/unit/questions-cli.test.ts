// Every question type end to end through `curate`: annotate over the real openai SDK against the
// loopback server (a deterministic responder that reads the request as a model would:
// test/support/question-responder.ts), then agreement, filter and review-queue on the results.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { main } from '../../src/cli/main';
import { questionResponder } from '../support/question-responder';
import { contentText } from '../support/openai-server';
import { readJsonl, useLoopbackServer } from './helpers/llm';

const env = useLoopbackServer('dc-questions-cli-');

function cli(
  args: string[],
  signal = new AbortController().signal,
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io = { out: (t: string) => (out += t), err: (t: string) => (err += t), write: () => {}, isTTY: false, signal };
  return main(args, io).then((code) => ({ code, out, err }));
}

const TICKETS = [
  {
    id: 1,
    text: 'I want a refund, I was charged twice. Write to ana@example.com',
    response: 'We will send teh refund today.',
    stars: 'stars: 4',
    generations: ['Sorry.', 'We are sorry; the refund is on its way.', 'Refund sent.'],
  },
  {
    id: 2,
    text: 'Where is my shipping box? 😀 Call me on +44 20 7946 0958 or bo@example.org',
    response: 'It ships tomorrow.',
    stars: 'stars: 2',
    generations: ['It ships tomorrow, tracking follows.', 'Tomorrow.'],
  },
  {
    id: 3,
    text: 'The billing page shows a charge I do not know; refund it. MISQUOTE',
    response: 'Teh charge is a hold.',
    stars: 'stars: 5',
    generations: ['A hold.', 'It is a temporary authorization hold that disappears.', 'A hold, it goes away.'],
  },
];

function dataset(name = 'tickets.jsonl', rows: object[] = TICKETS): string {
  const p = join(env.dir(), name);
  writeFileSync(p, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
  return p;
}

function annotateArgs(input: string, out: string, ...more: string[]): string[] {
  return [
    'annotate',
    input,
    '--base-url',
    env.server().baseURL,
    '--model',
    'gpt-test',
    '--out',
    out,
    '--cache-dir',
    join(env.dir(), 'cache'),
    ...more,
  ];
}

describe('curate annotate, per question type', () => {
  test('multi-label: the labels that apply, per-label confidence, a suggestion under the question; the label and the input untouched', async () => {
    env.server().respond = questionResponder();
    const input = dataset();
    const out = join(env.dir(), 'out.jsonl');
    const r = await cli(
      annotateArgs(input, out, '--question', 'topics', '--multi-label', '--labels', 'billing,refund,shipping'),
    );
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.out, /^annotate: 3 ok, 0 failed/);
    const rows = readJsonl(out);
    assert.deepEqual(
      rows.map((x) => x.annotations.suggestions.topics[0].value),
      [['refund'], ['shipping'], ['billing', 'refund']],
    );
    const s = rows[0]!.annotations.suggestions.topics[0];
    assert.deepEqual(s.label_scores, { billing: 0.1, refund: 0.9, shipping: 0.1 });
    assert.equal(s.score, 0.9, 'the least sure per-label decision');
    assert.equal(s.agent, 'gpt-test');
    assert.equal(rows[0]!.label, undefined, 'no top-level label for another question');
    // the request: a json_schema whose labels are an array of the declared enum
    const body = env.server().chatRequests()[0]!.body;
    assert.equal(body.response_format?.type, 'json_schema');
    const schema = body.response_format.json_schema?.schema as {
      properties: { labels: { items: { enum: string[] } } };
    };
    assert.deepEqual(schema.properties.labels.items.enum, ['billing', 'refund', 'shipping']);
    assert.equal(readFileSync(input, 'utf8'), `${TICKETS.map((t) => JSON.stringify(t)).join('\n')}\n`);
  });

  test('rating: an integer on the scale with confidence; outside the scale is a per-record failure after one repair', async () => {
    env.server().respond = questionResponder();
    const input = dataset('r.jsonl', [...TICKETS, { id: 4, text: 'too good', stars: 'stars: 9' }]);
    const out = join(env.dir(), 'out.jsonl');
    const r = await cli(annotateArgs(input, out, '--question', 'quality', '--rating', '1-5'));
    assert.equal(r.code, 1, 'a failed record: exit 1');
    assert.match(r.out, /^annotate: 3 ok, 1 failed/);
    assert.match(
      r.out,
      /line 4: invalid answer after one repair: ✖ Too big: expected number to be <=5\n\s*→ at rating/,
    );
    const rows = readJsonl(out);
    assert.deepEqual(
      rows.map((x) => x.annotations?.suggestions?.quality?.[0]?.value),
      [4, 2, 5, undefined],
    );
    assert.equal(rows[0]!.annotations.suggestions.quality[0].score, 0.8);
    const schema = env.server().chatRequests()[0]!.body.response_format?.json_schema?.schema as {
      properties: { rating: { minimum: number; maximum: number } };
    };
    assert.deepEqual([schema.properties.rating.minimum, schema.properties.rating.maximum], [1, 5]);
  });

  test('spans: offsets computed from the quotes in code points; a quote not in the text fails its record with the reason', async () => {
    env.server().respond = questionResponder();
    const input = dataset();
    const out = join(env.dir(), 'out.jsonl');
    const r = await cli(annotateArgs(input, out, '--question', 'pii', '--spans', 'EMAIL,PHONE', '--field', 'text'));
    assert.equal(r.code, 1);
    assert.match(r.out, /^annotate: 2 ok, 1 failed/);
    assert.match(r.out, /line 3: pii: span 1 \(EMAIL\) quotes "nobody@nowhere.test", which is not in "text"/);
    const rows = readJsonl(out);
    const text0 = TICKETS[0]!.text;
    assert.deepEqual(rows[0]!.annotations.suggestions.pii[0].value, [
      { label: 'EMAIL', start: text0.indexOf('ana@'), end: text0.length, text: 'ana@example.com' },
    ]);
    // record 2 has an emoji (two UTF-16 units, one code point) before its spans: offsets count code points
    const text1 = TICKETS[1]!.text;
    const spans = rows[1]!.annotations.suggestions.pii[0].value as {
      label: string;
      start: number;
      end: number;
      text: string;
    }[];
    assert.deepEqual(
      spans.map((s) => [s.label, s.text]),
      [
        ['PHONE', '+44 20 7946 0958'],
        ['EMAIL', 'bo@example.org'],
      ],
    );
    assert.equal(spans[0]!.start, text1.indexOf('+44') - 1);
    assert.equal(Array.from(text1).slice(spans[1]!.start, spans[1]!.end).join(''), 'bo@example.org');
    assert.equal(rows[2]!.annotations, undefined, 'the failed record is left as it was');
  });

  test('ranking: every candidate once, best first, as {value, rank}', async () => {
    env.server().respond = questionResponder();
    const input = dataset();
    const out = join(env.dir(), 'out.jsonl');
    const r = await cli(annotateArgs(input, out, '--question', 'best', '--rank', 'generations'));
    assert.equal(r.code, 0, r.err + r.out);
    const rows = readJsonl(out);
    assert.deepEqual(rows[0]!.annotations.suggestions.best[0].value, [
      { value: '2', rank: 1 },
      { value: '3', rank: 2 },
      { value: '1', rank: 3 },
    ]);
    assert.deepEqual(
      rows[1]!.annotations.suggestions.best[0].value.map((x: { value: string }) => x.value),
      ['1', '2'],
    );
    const body = env.server().chatRequests()[0]!.body;
    assert.match(
      contentText(body.messages?.at(-1)?.content),
      /Candidates \(generations\):\n\[1\] Sorry\.\n\n\[2\] We are sorry/,
    );
  });

  test('text: a corrected field kept beside the original, which is never changed', async () => {
    env.server().respond = questionResponder();
    const input = dataset();
    const out = join(env.dir(), 'out.jsonl');
    const r = await cli(annotateArgs(input, out, '--question', 'fix', '--text', '--field', 'response'));
    assert.equal(r.code, 0, r.err + r.out);
    const rows = readJsonl(out);
    assert.equal(rows[0]!.annotations.suggestions.fix[0].value, 'We will send the refund today.');
    assert.equal(rows[0]!.response, 'We will send teh refund today.');
    assert.match(
      contentText(env.server().chatRequests()[0]!.body.messages?.[0]?.content),
      /The question is about the field "response": write its corrected version in full/,
    );
    // a text question about no field in particular: no sentence about a field
    env.server().reset();
    env.server().respond = questionResponder();
    const free = await cli(annotateArgs(input, join(env.dir(), 'free.jsonl'), '--question', 'summary', '--text'));
    assert.equal(free.code, 0, free.err + free.out);
    assert.doesNotMatch(contentText(env.server().chatRequests()[0]!.body.messages?.[0]?.content), /field/);
  });

  test('a question declared in .curator/questions.json needs only --question; a contradicting flag is a usage error', async () => {
    env.server().respond = questionResponder();
    mkdirSync(join(env.dir(), '.curator'));
    writeFileSync(
      join(env.dir(), '.curator', 'questions.json'),
      JSON.stringify({
        questions: [
          {
            name: 'topics',
            type: 'multi-label',
            labels: ['billing', 'refund'],
            description: 'What it is about',
            guidelines: 'Every topic that applies.',
          },
        ],
      }),
    );
    const input = dataset();
    const out = join(env.dir(), 'out.jsonl');
    const r = await cli(annotateArgs(input, out, '--question', 'topics'));
    assert.equal(r.code, 0, r.err + r.out);
    assert.deepEqual(
      readJsonl(out).map((x) => x.annotations.suggestions.topics[0].value),
      [['refund'], [], ['billing', 'refund']],
    );
    const system = contentText(env.server().chatRequests()[0]!.body.messages?.[0]?.content);
    assert.match(system, /Question "topics": What it is about/);
    assert.match(system, /Every topic that applies\./);
    const bad = await cli(annotateArgs(input, join(env.dir(), 'x.jsonl'), '--question', 'topics', '--rating', '1-5'));
    assert.equal(bad.code, 2);
    assert.match(
      bad.err,
      /"topics" is declared as topics \(multi-label: billing, refund\) in .*questions\.json, not as a rating question/,
    );
    const label = await cli(
      annotateArgs(input, join(env.dir(), 'y.jsonl'), '--question', 'label', '--multi-label', '--labels', 'a,b'),
    );
    assert.equal(label.code, 2);
    assert.match(label.err, /"label" is the dataset's single-label question/);
  });
});

describe('curate agreement, filter and review-queue, per question type', () => {
  const QUESTIONS = {
    questions: [
      { name: 'topics', type: 'multi-label', labels: ['billing', 'refund', 'shipping'] },
      { name: 'quality', type: 'rating', min: 1, max: 5 },
      { name: 'best', type: 'ranking', field: 'generations' },
      { name: 'pii', type: 'span', field: 'text', labels: ['EMAIL', 'PHONE'] },
      { name: 'fix', type: 'text', field: 'response' },
    ],
  };
  // What a person decided, per record (the editor writes these through src/core/questions/layout.ts).
  const HUMAN: Record<string, unknown[]> = {
    topics: [['refund'], ['billing', 'shipping'], ['billing', 'refund']],
    quality: [4, 3, 5],
    best: [['2', '3', '1'], ['2', '1'], undefined],
    pii: [
      [{ label: 'EMAIL', start: 47, end: 62 }],
      [{ label: 'EMAIL', start: 59, end: 73, text: 'bo@example.org' }],
      [],
    ], // code points: the emoji is one
    fix: ['We will send the refund today.', 'It ships on Monday.', undefined],
  };

  async function annotated(): Promise<string> {
    env.server().respond = questionResponder();
    mkdirSync(join(env.dir(), '.curator'), { recursive: true });
    writeFileSync(join(env.dir(), '.curator', 'questions.json'), JSON.stringify(QUESTIONS));
    const file = dataset(
      't.jsonl',
      TICKETS.map((t) => ({ ...t, text: t.text.replace(' MISQUOTE', '') })),
    );
    for (const q of QUESTIONS.questions) {
      const r = await cli([
        'annotate',
        file,
        '--base-url',
        env.server().baseURL,
        '--model',
        'gpt-test',
        '--in-place',
        '--question',
        q.name,
        '--cache-dir',
        join(env.dir(), 'cache'),
      ]);
      assert.equal(r.code, 0, `${q.name}: ${r.err}${r.out}`);
    }
    const { withAnswer } = await import('../../src/core/questions/layout');
    const { datasetQuestions } = await import('../../src/core/questions/resolve');
    const qs = datasetQuestions(file);
    const rows = readJsonl(file).map((rec, i) => {
      let r: Record<string, unknown> = rec;
      for (const q of qs)
        if (HUMAN[q.name]?.[i] !== undefined) r = withAnswer(r, q, HUMAN[q.name]![i], { user: 'maria' });
      return r;
    });
    writeFileSync(file, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
    return file;
  }

  test("agreement per type: human vs model with the type's figures", async () => {
    const file = await annotated();
    const run = async (q: string) => {
      const r = await cli(['agreement', file, '--question', q]);
      assert.equal(r.code, 0, r.err);
      return r.out;
    };
    // topics: Jaccard (1 + 1/2 + 1) / 3, Hamming 1 differing decision of 9
    const topics = await run('topics');
    assert.match(
      topics,
      /^topics \(multi-label\): 3 record\(s\); raters human 3, gpt-test 3\nhuman vs gpt-test: 3 record\(s\) both answered\n/,
    );
    assert.match(topics, /Jaccard 0\.833 {2}Hamming loss 0\.111 {2}exact 0\.667/);
    assert.match(topics, /\n {4}billing +kappa 0\.400 /);
    // quality: (4,4) (3,2) (5,5) on 1-5: linear kappa 1 - 1/(11/3) = 8/11, quadratic 1 - 1/7 = 6/7;
    // Krippendorff's alpha (interval) 1 - (1/3)/(82/30) = 0.878
    const quality = await run('quality');
    assert.match(quality, /exact 0\.667 {2}mean \|diff\| 0\.333 {2}weighted kappa linear 0\.727 quadratic 0\.857/);
    assert.match(quality, /Krippendorff's alpha \(interval\), every rater: 0\.878/);
    // best: record 1 the same order (tau 1), record 2 reversed (tau -1); record 3 no person
    assert.match(
      await run('best'),
      /human vs gpt-test: 2 record\(s\) both answered\n {2}Kendall's tau-b 0\.000 {2}top-1 0\.500 {2}same order 0\.500/,
    );
    // pii: the person marked 2 e-mails, the model 2 e-mails and a phone: exact P 2/3, R 1, F1 0.8
    assert.match(await run('pii'), /exact F1 0\.800 \(P 0\.667 R 1\.000\) {2}overlap F1 0\.800/);
    assert.match(await run('fix'), /human vs gpt-test: 2 record\(s\) both answered\n {2}exact 0\.500/);
    // --json carries the same figures
    const json = JSON.parse((await cli(['agreement', file, '--question', 'quality', '--json'])).out) as {
      pairs: { metrics: { linearKappa: number } }[];
      alpha: number;
    };
    assert.ok(Math.abs(json.pairs[0]!.metrics.linearKappa - 8 / 11) < 1e-12);
  });

  test("agreement human-human: a second annotator's copy of the file, joined by id", async () => {
    const file = await annotated();
    const { withAnswer } = await import('../../src/core/questions/layout');
    const { datasetQuestions } = await import('../../src/core/questions/resolve');
    const quality = datasetQuestions(file).find((q) => q.name === 'quality')!;
    const other = join(env.dir(), 'ana.jsonl');
    const rows = readJsonl(file).map((r, i) => withAnswer(r, quality, [5, 3, 5][i], { user: 'ana' }));
    writeFileSync(
      other,
      `${rows
        .reverse()
        .map((r) => JSON.stringify(r))
        .join('\n')}\n`,
    );
    const r = await cli([
      'agreement',
      file,
      '--question',
      'quality',
      '--gold',
      other,
      '--join-on',
      'id',
      '--gold-name',
      'ana',
    ]);
    assert.equal(r.code, 0, r.err);
    assert.match(
      r.out,
      /raters human 3, ana 3, gpt-test 3\nhuman vs ana: 3 record\(s\) both answered\n {2}exact 0\.667 {2}mean \|diff\| 0\.333/,
    );
    assert.match(r.out, /\nana vs gpt-test: 3 record\(s\)/);
  });

  test('filter per question: rating bounds, labels, answers that no longer fit their text', async () => {
    const file = await annotated();
    const dry = async (...args: string[]) => {
      const r = await cli(['filter', file, ...args, '--dry-run']);
      assert.equal(r.code, 0, r.err);
      return r.out;
    };
    assert.match(
      await dry('--question', 'quality', '--min-rating', '4'),
      /keep 2, drop 1 .*\n +1 +dropped by +quality >= 4/,
    );
    assert.match(
      await dry('--question', 'topics', '--has-label', 'refund', '--lacks-label', 'shipping'),
      /keep 2, drop 1/,
    );
    // the person's answer counts over the model's: record 2's topics are billing and shipping
    assert.match(await dry('--question', 'topics', '--has-label', 'billing'), /keep 2, drop 1/);
    // rankings and texts: answered by a person, or by anyone; spans by their labels
    assert.match(
      await dry('--question', 'best', '--answered', 'human'),
      /keep 2, drop 1 .*\n +1 +dropped by +best answered by a person/,
    );
    assert.match(await dry('--question', 'fix', '--answered', 'any'), /keep 3, drop 0/);
    assert.match(await dry('--question', 'pii', '--has-label', 'EMAIL'), /keep 2, drop 1/);
    // the text of record 1 is edited: its spans no longer cover what they did
    const rows = readJsonl(file);
    rows[0]!.text = `Hello! ${rows[0]!.text}`;
    writeFileSync(file, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
    assert.match(
      await dry('--question', 'pii', '--valid-answers'),
      /keep 2, drop 1 .*\n +1 +dropped by +pii answer fits/,
    );
    // agreement leaves the answers that no longer fit out, and says so
    const ag = await cli(['agreement', file, '--question', 'pii']);
    assert.match(
      ag.out,
      /raters human 2 \(\+1 invalid\), gpt-test 2 \(\+1 invalid\)\nhuman vs gpt-test: 2 record\(s\) both answered/,
    );
    assert.match(
      ag.out,
      /\n {2}line 1, human: span 1 \(EMAIL, 47-62\) says it covers "ana@example.com" but "text" has /,
    );
    const out = join(env.dir(), 'kept.jsonl');
    const w = await cli(['filter', file, '--question', 'quality', '--min-rating', '5', '--out', out]);
    assert.equal(w.code, 0, w.err);
    assert.deepEqual(
      readJsonl(out).map((r) => r.id),
      [3],
    );
    const bad = await cli(['filter', file, '--min-rating', '4', '--dry-run']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /need a question \(a declared question, or one described by its type\): pass --question/);
  });

  test('review-queue per question: models that disagree, suggestions that no longer fit', async () => {
    const file = await annotated();
    // a second model that rates everything 1 and finds no e-mail
    const base = questionResponder();
    env.server().respond = (req) => {
      const body = req.body as { model?: string; response_format?: { json_schema?: { name?: string } } };
      if (body.model === 'gpt-b' && body.response_format?.json_schema?.name?.startsWith('rating_answer'))
        return { content: JSON.stringify({ rating: 1, confidence: 0.99, rationale: 'strict' }) };
      return base(req);
    };
    const r = await cli([
      'annotate',
      file,
      '--base-url',
      env.server().baseURL,
      '--model',
      'gpt-b',
      '--in-place',
      '--question',
      'quality',
      '--cache-dir',
      join(env.dir(), 'cache'),
    ]);
    assert.equal(r.code, 0, r.err);
    const q = await cli([
      'review-queue',
      file,
      '--question',
      'quality',
      '--models-disagree',
      '--max-rating-spread',
      '2',
      '--include-decided',
      '--min-confidence',
      '0.5',
    ]);
    assert.equal(q.code, 0, q.err);
    // gpt-test rated 4, 2, 5 and gpt-b 1: spreads 3, 1, 4
    assert.match(q.out, /2 record\(s\) for review in 'low-confidence', 1 left to the model/);
    assert.match(q.out, /line 1: models-disagree\n {2}line 3: models-disagree\n/);
  });
});

describe('curate questions and curate pairs', () => {
  test('questions: what is declared and how far along; Argilla settings out and in', async () => {
    const input = dataset();
    const none = await cli(['questions', input]);
    assert.equal(none.code, 0);
    assert.match(
      none.out,
      /3 record\(s\); no declared questions \(\.curator\/questions\.json, docs\/questions\.md\): the single label question only\n$/,
    );
    // the single label question is not an undeclared one
    const labeled = dataset('l.jsonl', [
      {
        text: 'x',
        label: 'a',
        annotations: {
          human: { label: { value: 'a', status: 'submitted' } },
          suggestions: { label: [{ value: 'a' }] },
        },
      },
    ]);
    assert.doesNotMatch((await cli(['questions', labeled])).out, /undeclared/);
    // from Argilla's settings (the shape of `rg.Settings.serialize()`; see questions-core.test.ts for its source)
    const settings = join(env.dir(), 'settings.json');
    writeFileSync(
      settings,
      JSON.stringify({
        guidelines: 'Be careful.',
        questions: [
          {
            name: 'topics',
            title: 'topics',
            description: null,
            required: true,
            settings: {
              type: 'multi_label_selection',
              options: [
                { text: 'billing', value: 'billing' },
                { text: 'refund', value: 'refund' },
              ],
              visible_options: null,
              options_order: 'natural',
            },
          },
          {
            name: 'quality',
            title: 'quality',
            description: null,
            required: true,
            settings: { type: 'rating', options: [{ value: 1 }, { value: 2 }, { value: 3 }] },
          },
          {
            name: 'score',
            title: 'score',
            description: null,
            required: true,
            settings: { type: 'rating', options: [{ value: 1 }, { value: 5 }] },
          },
        ],
      }),
    );
    const imp = await cli(['questions', input, '--from-argilla', settings]);
    assert.equal(imp.code, 0, imp.err);
    assert.match(
      imp.out,
      /declared 2 question\(s\) for tickets\.jsonl in .*\.curator\/questions\.json\n {2}topics \(multi-label: billing, refund\)\n {2}quality \(rating 1-3\)\n {2}left out: score: a rating with the values 1, 5 is not a scale/,
    );
    const decl = JSON.parse(readFileSync(join(env.dir(), '.curator', 'questions.json'), 'utf8')) as {
      datasets: Record<string, { name: string }[]>;
    };
    assert.deepEqual(
      decl.datasets['tickets.jsonl']?.map((x) => x.name),
      ['topics', 'quality'],
    );
    // annotate one of them, then the overview counts it
    env.server().respond = questionResponder();
    const a = await cli([
      'annotate',
      input,
      '--base-url',
      env.server().baseURL,
      '--model',
      'gpt-test',
      '--in-place',
      '--question',
      'topics',
      '--no-cache',
    ]);
    assert.equal(a.code, 0, a.err);
    const list = await cli(['questions', input]);
    assert.match(
      list.out,
      /3 record\(s\); questions from .*questions\.json\n {2}topics \(multi-label: billing, refund\)\n {4}answered by a person 0, suggested by a model 3\n {2}quality \(rating 1-3\)\n {4}answered by a person 0, suggested by a model 0\n/,
    );
    const out = join(env.dir(), 'argilla-settings.json');
    const exp = await cli(['questions', input, '--to-argilla', out]);
    assert.equal(exp.code, 0, exp.err);
    const written = JSON.parse(readFileSync(out, 'utf8')) as {
      guidelines: string;
      fields: { name: string }[];
      questions: { name: string; settings: { type: string } }[];
    };
    assert.deepEqual(
      written.questions.map((x) => [x.name, x.settings.type]),
      [
        ['topics', 'multi_label_selection'],
        ['quality', 'rating'],
      ],
    );
    assert.deepEqual(
      written.fields.map((f) => f.name),
      ['text', 'response', 'stars'],
      "the records' text fields: Argilla needs at least one",
    );
    assert.match(written.guidelines, /Be careful\./);
  });

  test('pairs: from a ranking (best against worst) and from ratings of responses to one prompt', async () => {
    env.server().respond = questionResponder();
    const input = dataset(
      'p.jsonl',
      TICKETS.map((t) => ({ prompt: t.text, generations: t.generations })),
    );
    const ann = await cli([
      'annotate',
      input,
      '--base-url',
      env.server().baseURL,
      '--model',
      'gpt-test',
      '--in-place',
      '--question',
      'best',
      '--rank',
      'generations',
      '--no-cache',
    ]);
    assert.equal(ann.code, 0, ann.err);
    // given with flags, not declared: `curate questions` says where the answers are
    assert.match((await cli(['questions', input])).out, /answers under undeclared names \(records\): best \(3\)\n/);
    const out = join(env.dir(), 'pairs.jsonl');
    const r = await cli(['pairs', input, '--question', 'best', '--rank', 'generations', '--out', out]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /wrote 3 pair\(s\) from "best"/);
    const rows = readJsonl(out);
    assert.deepEqual(
      [rows[0]!.chosen, rows[0]!.rejected, rows[0]!.source],
      ['We are sorry; the refund is on its way.', 'Sorry.', 'model'],
    );
    // ratings: two responses to the same prompt, each rated by a person
    const rated = dataset('r.jsonl', [
      { prompt: 'Say hi', response: 'hi', annotations: { human: { quality: { value: 2, status: 'submitted' } } } },
      {
        prompt: 'Say hi',
        response: 'Hello! How can I help?',
        annotations: { human: { quality: { value: 5, status: 'submitted' } } },
      },
      { prompt: 'Alone', response: 'x', annotations: { human: { quality: { value: 3, status: 'submitted' } } } },
    ]);
    const out2 = join(env.dir(), 'pairs2.jsonl');
    const r2 = await cli(['pairs', rated, '--question', 'quality', '--rating', '1-5', '--out', out2]);
    assert.equal(r2.code, 0, r2.err);
    assert.match(
      r2.out,
      /wrote 1 pair\(s\) from "quality" to .*; 1 skipped\n {2}prompt "Alone": one rated response to the prompt/,
    );
    assert.deepEqual(
      readJsonl(out2).map((x) => [x.prompt, x.chosen, x.rejected, x.chosen_rating, x.rejected_rating, x.source]),
      [['Say hi', 'Hello! How can I help?', 'hi', 5, 2, 'human']],
    );
    const bad = await cli(['pairs', rated, '--question', 'quality', '--out', join(env.dir(), 'x.jsonl')]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /a ranking or a rating question; "quality" is not declared/);
  });
});

describe('a question job resumes like any other', () => {
  test('interrupted after the first record, then run again: the done record is resumed, not asked again', async () => {
    const base = questionResponder();
    const stop = new AbortController();
    // Ctrl-C while the second request is under way
    env.server().respond = (req) => {
      if (env.server().counts.chat === 2) stop.abort();
      return base(req);
    };
    const input = dataset();
    const out = join(env.dir(), 'out.jsonl');
    const args = annotateArgs(
      input,
      out,
      '--question',
      'topics',
      '--multi-label',
      '--labels',
      'billing,refund,shipping',
      '--no-cache',
      '--concurrency',
      '1',
    );
    const first = await cli(args, stop.signal);
    assert.equal(first.code, 130, first.err + first.out);
    assert.match(first.err, /interrupted; 1 of 3 records are done and kept/);
    env.server().respond = base;
    const r = await cli(args);
    assert.equal(r.code, 0, r.err);
    assert.match(
      r.out,
      /^annotate: 3 ok, 0 failed, 0 skipped \(invalid lines\), 0 from cache, 1 resumed; 2 request\(s\)/,
    );
    assert.equal(
      env.server().counts.chat,
      4,
      "the first run's one answer, its interrupted request, then the other two",
    );
    assert.deepEqual(
      readJsonl(out).map((x) => x.annotations.suggestions.topics.length),
      [1, 1, 1],
      'one suggestion per model, never duplicated',
    );
    assert.deepEqual(readJsonl(out)[0]!.annotations.suggestions.topics[0].label_scores, {
      billing: 0.1,
      refund: 0.9,
      shipping: 0.1,
    });
  });
});

describe('few-shot for question types', () => {
  test('--few-shot N: records a person answered become demonstrations, in the shape the model answers (spans: quote and appearance)', async () => {
    env.server().respond = questionResponder();
    mkdirSync(join(env.dir(), '.curator'));
    writeFileSync(
      join(env.dir(), '.curator', 'questions.json'),
      JSON.stringify({ questions: [{ name: 'pii', type: 'span', field: 'text', labels: ['EMAIL', 'PHONE'] }] }),
    );
    const text = 'cc a@b.io and again a@b.io';
    const input = dataset('f.jsonl', [
      {
        id: 0,
        text,
        annotations: {
          human: { pii: { value: [{ label: 'EMAIL', start: 20, end: 26 }], status: 'submitted', user: 'maria' } },
        },
      },
      ...TICKETS.slice(0, 2).map(({ id, text: t }) => ({ id, text: t })),
    ]);
    const r = await cli(
      annotateArgs(input, join(env.dir(), 'o.jsonl'), '--question', 'pii', '--few-shot', '1', '--no-cache'),
    );
    assert.equal(r.code, 0, r.err + r.out);
    const msgs = env.server().chatRequests().at(-1)!.body.messages!;
    assert.deepEqual(
      msgs.map((m) => m.role),
      ['system', 'user', 'assistant', 'user'],
    );
    assert.match(contentText(msgs[1]!.content), /<<<\ncc a@b\.io and again a@b\.io\n>>>/);
    assert.equal(
      msgs[2]!.content,
      JSON.stringify({ spans: [{ label: 'EMAIL', text: 'a@b.io', occurrence: 2 }], rationale: '' }),
    );
    assert.doesNotMatch(contentText(msgs[1]!.content), /maria/, 'the annotation fields are not shown to the model');
  });
});

describe('prompt overrides per question type', () => {
  test('.curator/prompts/rating.md replaces the rating prompt; an unknown placeholder is an error naming the file', async () => {
    env.server().respond = questionResponder();
    mkdirSync(join(env.dir(), '.curator', 'prompts'), { recursive: true });
    const file = join(env.dir(), '.curator', 'prompts', 'rating.md');
    writeFileSync(
      file,
      '---\nversion: 7\n---\n# system\nRate from {{min}} to {{max}} how angry the customer is. {{guidelines}}\n# user\nTicket: {{text}}\n',
    );
    const input = dataset();
    const r = await cli(annotateArgs(input, join(env.dir(), 'o.jsonl'), '--question', 'anger', '--rating', '1-3'));
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.err, /rating\.md v7 \(sha256:[0-9a-f]+\) for rating question "anger"/);
    const body = env.server().chatRequests()[0]!.body;
    assert.equal(body.messages?.[0]?.content, 'Rate from 1 to 3 how angry the customer is.');
    assert.equal(body.messages.at(-1)?.content, `Ticket: ${TICKETS[0]!.text}`);
    writeFileSync(file, '# system\nRate {{mood}}\n# user\n{{record}}\n');
    const bad = await cli(annotateArgs(input, join(env.dir(), 'p.jsonl'), '--question', 'anger', '--rating', '1-3'));
    assert.notEqual(bad.code, 0);
    assert.match(bad.err, /rating\.md: unknown placeholder\(s\) in the system prompt: \{\{mood\}\}/);
  });
});

describe('curate consistency for a question type', () => {
  test('k samples of a rating: the median, the share that gave it as confidence, every sample kept', async () => {
    const base = questionResponder();
    // the model rates differently per sample (seed 0..4): 4, 2, 5, 4, 4
    env.server().respond = (req) => {
      const body = req.body as { seed?: number; response_format?: { json_schema?: { name?: string } } };
      if (body.response_format?.json_schema?.name?.startsWith('rating_answer'))
        return {
          content: JSON.stringify({
            rating: [4, 2, 5, 4, 4][body.seed ?? 0],
            confidence: 0.5,
            rationale: `sample ${body.seed}`,
          }),
        };
      return base(req);
    };
    const input = dataset();
    const out = join(env.dir(), 'out.jsonl');
    const r = await cli([
      'consistency',
      input,
      '--base-url',
      env.server().baseURL,
      '--model',
      'gpt-test',
      '--out',
      out,
      '--no-cache',
      '--question',
      'quality',
      '--rating',
      '1-5',
      '--samples',
      '5',
    ]);
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.err, /about 15 request\(s\)/);
    const s = readJsonl(out)[0]!.annotations.suggestions.quality[0];
    assert.deepEqual(
      [s.value, s.score, s.rationale, s.provenance.task],
      [4, 0.6, '3 of 5 samples agree', 'consistency'],
    );
    assert.deepEqual(
      s.samples.map((x: { value: number }) => x.value),
      [4, 2, 5, 4, 4],
    );
    assert.equal(
      new Set(
        env
          .server()
          .chatRequests()
          .map((q) => q.body.temperature),
      ).size,
      1,
    );
    assert.equal(env.server().chatRequests()[0]!.body.temperature, 0.7, 'sampling, not greedy');
  });
});
