// What a new user of `curate` runs into in the first hour (issue 18), each as the user sees it: a
// mistyped option, a mistyped file name given as TEXT|FILE, summaries printed once, import's and
// split's human summaries, split's leakage of exact duplicates, the model-collapse warning of stats.
// The CLI's main() runs in this process with its streams captured (the process itself is not the
// point here); each test works in a fresh folder.
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nearestOption, looksLikePath } from '../../src/cli/cli';
import { curateInProcess as curate, root, tempDir } from './helpers/store';

/** An endpoint where no server listens, and a model. */
const noServer = ['--base-url', 'http://127.0.0.1:9/v1', '--model', 'm'];

const lines = (f: string) => readFileSync(f, 'utf8').split('\n').filter(Boolean);

describe('curate, the first hour', () => {
  test('--label for --labels: "did you mean --labels?", not node\'s advice about positionals', async () => {
    const dir = tempDir('dc-cli-first-');
    writeFileSync(join(dir, 'd.jsonl'), '{"text":"a"}\n');
    const r = await curate(['annotate', 'd.jsonl', '--label', 'a,b', ...noServer, '--out', 'o.jsonl'], dir);
    assert.equal(r.code, 2);
    assert.match(r.err, /curate annotate: unknown option --label; did you mean --labels\?/);
    assert.doesNotMatch(r.err, /positional argument/);
    const s = await curate(['split', 'd.jsonl', '--overwirte'], dir);
    assert.equal(s.code, 2);
    assert.match(s.err, /unknown option --overwirte; did you mean --overwrite\?/);
    // Nothing close: no guess.
    const x = await curate(['stats', 'd.jsonl', '--frobnicate'], dir);
    assert.match(x.err, /unknown option --frobnicate\n/);
    assert.equal(nearestOption('valdation', ['train', 'validation', 'test']), 'validation');
    assert.equal(nearestOption('zzz', ['train', 'validation']), undefined);
  });

  test('a TEXT|FILE value that looks like a file name and names no file is an error, not the text', async () => {
    const dir = tempDir('dc-cli-first-');
    writeFileSync(join(dir, 'd.jsonl'), '{"instruction":"hi"}\n');
    const j = await curate(['judge', 'd.jsonl', '--rubric', 'rubrik.md', ...noServer, '--out', 'o.jsonl'], dir);
    assert.equal(j.code, 2, j.err);
    assert.match(j.err, /--rubric: no such file: rubrik\.md/);
    const g = await curate(
      ['generate', 'responses', 'd.jsonl', '--system', 'sytem.txt', '--out', 'r.jsonl', ...noServer],
      dir,
    );
    assert.equal(g.code, 2, g.err);
    assert.match(g.err, /--system: no such file: sytem\.txt/);
    const p = await curate(['judge', 'd.jsonl', '--rubric', 'prompts/rubric', ...noServer, '--out', 'o.jsonl'], dir);
    assert.match(p.err, /--rubric: no such file: prompts\/rubric/);
    // Text is text; a real file is read.
    for (const text of ['Be concise.', 'correct', 'Score 1-10: is it right?'])
      assert.equal(looksLikePath(text), false, text);
    for (const path of ['rubric.md', './rubric', '/etc/rubric.txt', 'a/b.yaml'])
      assert.equal(looksLikePath(path), true, path);
  });

  test('split: the summary once, on stdout, in words; "--overwrite" named as the flag; exact duplicates never on both sides', async () => {
    const dir = tempDir('dc-cli-first-');
    // 40 distinct reviews and 10 texts present three times each (with other ids and labels' casing kept).
    const rows: string[] = [];
    for (let i = 0; i < 40; i++)
      rows.push(JSON.stringify({ id: `u${i}`, text: `unique review number ${i}`, label: i % 2 ? 'pos' : 'neg' }));
    for (let d = 0; d < 10; d++)
      for (let c = 0; c < 3; c++)
        rows.push(
          JSON.stringify({
            id: `d${d}-${c}`,
            text: c === 1 ? `  Duplicated   review ${d} ` : `duplicated review ${d}`,
            label: d % 2 ? 'pos' : 'neg',
          }),
        );
    writeFileSync(join(dir, 'data.jsonl'), `${rows.join('\n')}\n`);
    const r = await curate(['split', 'data.jsonl', '--train', '0.8', '--validation', '0.2'], dir);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '', 'nothing on stderr: the summary is printed once');
    assert.match(r.out, /^data\.jsonl: 70 record\(s\) split with seed 42, stratified by label\n/);
    assert.match(r.out, /\n {2}train +\d+ +\d+\.\d% {2}-> .*data\.train\.jsonl\n/);
    assert.match(r.out, /10 group\(s\) of exact duplicates \(30 records\) kept on one side each/);
    assert.doesNotMatch(r.out, /^\{/m, 'no raw JSON');
    const norm = (l: string) => (JSON.parse(l) as { text: string }).text.trim().toLowerCase().replace(/\s+/g, ' ');
    const train = new Set(lines(join(dir, 'data.train.jsonl')).map(norm));
    const val = lines(join(dir, 'data.validation.jsonl')).map(norm);
    assert.equal(train.size + new Set(val).size, 50);
    for (const t of val) assert.ok(!train.has(t), `"${t}" is in train and in validation`);
    assert.equal(lines(join(dir, 'data.train.jsonl')).length + val.length, 70);
    // Without the grouping (the old behaviour) the same seed puts copies on both sides: the test above can fail.
    const loose = await curate(
      ['split', 'data.jsonl', '--train', '0.8', '--validation', '0.2', '--allow-duplicates', '--overwrite'],
      dir,
    );
    assert.equal(loose.code, 0, loose.err);
    const looseTrain = new Set(lines(join(dir, 'data.train.jsonl')).map(norm));
    assert.ok(
      lines(join(dir, 'data.validation.jsonl'))
        .map(norm)
        .some((t) => looseTrain.has(t)),
      'ungrouped, some copy leaks',
    );
    // Run again without --overwrite: the flag's name, not the option's.
    const again = await curate(['split', 'data.jsonl'], dir);
    assert.equal(again.code, 2);
    assert.match(again.err, /exists; pass --overwrite to replace it/);
  });

  test('import: a summary in words, not a JSON object; filter and export print their summary once', async () => {
    const dir = tempDir('dc-cli-first-');
    writeFileSync(
      join(dir, 'sft.jsonl'),
      `${JSON.stringify({
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: 'hello' },
        ],
      })}\nnot json\n`,
    );
    const r = await curate(['import', 'sft.jsonl', '--format', 'sft', '--out', 'in.jsonl'], dir);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^imported 1 sft row\(s\) (from sft\.jsonl )?into \S*in\.jsonl; skipped 1\n/);
    assert.doesNotMatch(r.out, /\{"format"/);
    const f = await curate(['filter', 'in.jsonl', '--where', 'exists(messages)', '--out', 'kept.jsonl'], dir);
    assert.equal(f.code, 0, f.err);
    assert.equal(f.err, '');
    assert.match(f.out, /keep 1, drop 0/);
  });

  test('stats warns of model collapse above half machine-generated (89% here), not at half', async () => {
    const dir = tempDir('dc-cli-first-');
    const gen = (i: number) =>
      JSON.stringify({ text: `g${i}`, annotations: { origin: { type: 'model', task: 'responses', model: 'm' } } });
    const human = (i: number) => JSON.stringify({ text: `h${i}` });
    writeFileSync(
      join(dir, 'mostly.jsonl'),
      `${[...Array.from({ length: 8 }, (_, i) => gen(i)), human(0)].join('\n')}\n`,
    );
    writeFileSync(join(dir, 'half.jsonl'), `${[gen(0), gen(1), human(0), human(1)].join('\n')}\n`);
    const r = await curate(['stats', 'mostly.jsonl'], dir);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /generated +88\.9% \(8\)/);
    assert.match(
      r.out,
      /warning +88\.9% of the records are machine-generated \(8 of 9\): models trained mostly on generated data can degrade \(model collapse\)/,
    );
    const j = await curate(['stats', 'mostly.jsonl', '--json'], dir);
    assert.doesNotThrow(() => JSON.parse(j.out));
    assert.match(j.err, /warning: 88\.9% of the records are machine-generated/);
    const h = await curate(['stats', 'half.jsonl'], dir);
    assert.doesNotMatch(h.out + h.err, /warning/);
    // The sample is human-written.
    const s = await curate(['stats', join(root, 'samples/reviews.jsonl')], dir);
    assert.doesNotMatch(s.out, /warning/);
  });
});
