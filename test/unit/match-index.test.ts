// The match index behind search and "only matches": the same matches as testing every line,
// built in slices (the event loop keeps running), kept exact through edits, undo and inserts.
import { describe, test } from 'node:test';
import fc from 'fast-check';
import * as assert from 'node:assert/strict';
import { MatchIndex, MatchIndexes, queryKey } from '../../src/core/match-index';
import { matchesQuery } from '../../src/core/query';
import { JsonlDataset, invertEdit, type Edit } from '../../src/core/store';
import type { SearchQuery } from '../../src/shared/protocol';
import { fileWith } from './helpers/store';

function lines(n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 97 === 13) out.push('not json');
    else if (i % 101 === 7) out.push('');
    else
      out.push(
        JSON.stringify({
          id: i,
          text: `row ${i} ${i % 7 === 0 ? 'Needle' : 'hay'}`,
          label: ['a', 'b', 'c'][i % 3],
          judge: { score: i % 10 },
        }),
      );
  }
  return `${out.join('\r\n')}\n`;
}

function brute(ds: JsonlDataset, q: SearchQuery): number[] {
  const t = matchesQuery(q);
  const out: number[] = [];
  for (let i = 0; i < ds.lineCount; i++) if (t(ds.line(i))) out.push(i);
  return out;
}

const all = (m: MatchIndex) => m.slice(0, m.count);

const queries: SearchQuery[] = [
  { text: 'needle' },
  { label: 'b', minScore: 5 },
  { invalid: true },
  { text: 'row 1\\d+ ', regex: true },
  { text: 'NOT JSON' },
];

describe('match index', () => {
  test('finds exactly the lines that match, for text, regex, label, score and invalid queries', async () => {
    const ds = await JsonlDataset.open(fileWith(lines(3000)));
    await ds.ready;
    for (const q of queries) {
      const m = new MatchIndex(ds, q);
      await m.whenDone();
      assert.deepEqual(all(m), brute(ds, q), JSON.stringify(q));
      assert.deepEqual(m.progress(), { count: m.count, scanned: ds.lineCount, lineCount: ds.lineCount, done: true });
    }
    ds.close();
  });

  test('builds in slices: other work runs while a large file is searched, and early matches are usable before the end', async () => {
    const ds = await JsonlDataset.open(fileWith(lines(60_000)), { worker: false });
    await ds.ready;
    const m = new MatchIndex(ds, { text: 'needle' });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    await m.found(0, 5);
    const early = m.progress();
    await m.whenDone();
    clearInterval(timer);
    assert.ok(early.count >= 5);
    assert.ok(
      !early.done && early.scanned < ds.lineCount,
      `the first matches came before the scan ended (${JSON.stringify(early)})`,
    );
    assert.ok(ticks >= 1, `timers ran during the build (${ticks})`);
    assert.deepEqual(all(m), brute(ds, { text: 'needle' }));
    assert.equal(m.lowerBound(7), 1, 'the first match at or after 7 is the second one (0, 7, ...)');
    ds.close();
  });

  test('stays exact through replace, insert and delete edits, and their undo', async () => {
    const ds = await JsonlDataset.open(fileWith(lines(500)));
    await ds.ready;
    const indexes = queries.map((q) => new MatchIndex(ds, q));
    await Promise.all(indexes.map((m) => m.whenDone()));
    const check = (what: string) =>
      indexes.forEach((m, k) =>
        assert.deepEqual(all(m), brute(ds, queries[k]!), `${what}: ${JSON.stringify(queries[k])}`),
      );
    const steps: Edit[][] = [];
    const step = (edits: Edit[], what: string) => {
      steps.push(edits);
      for (const m of indexes) m.applied(edits);
      check(what);
    };
    step([ds.replaceLine(0, { text: 'now a needle', label: 'b', judge: { score: 9 } })], 'replace');
    step([ds.insertLine(3, { text: 'inserted needle' })], 'insert');
    step([ds.deleteLine(7)], 'delete a match');
    step([ds.replaceLine(13, { raw: '{"fixed": true}' })], 'an invalid line fixed');
    step(
      [
        ds.deleteLine(400),
        ds.insertLine(0, { raw: 'broken' }),
        ds.replaceLine(250, { label: 'b', judge: { score: 5 }, text: 'x' }),
      ],
      'several at once',
    );
    for (const edits of steps.reverse()) {
      for (const e of [...edits].reverse()) ds.undoEdit(e);
      for (const m of indexes) m.applied([...edits].reverse().map(invertEdit));
      check('undo');
    }
    ds.close();
  });

  test('an edit during a build starts it over and the result is still exact', async () => {
    const ds = await JsonlDataset.open(fileWith(lines(20_000)));
    await ds.ready;
    const m = new MatchIndex(ds, { text: 'needle' });
    await m.found(0, 3);
    const e = ds.deleteLine(1);
    m.applied([e]);
    await m.whenDone();
    assert.deepEqual(all(m), brute(ds, { text: 'needle' }));
    ds.close();
  });

  test('the byte shortcut of plain-text search never misses a match (escapes, odd letters, numbers)', async () => {
    const tricky = [
      'K',
      '\u212a',
      'İ',
      'i',
      'é',
      '\\u006b',
      '"',
      '\\',
      '/',
      '\\/',
      'Kelvin',
      'KG',
      '1e2',
      '100',
      'true',
      '\n',
      '日本',
    ];
    const piece = fc.constantFrom(...tricky);
    const str = fc.array(fc.oneof(piece, fc.string({ maxLength: 4 })), { maxLength: 6 }).map((xs) => xs.join(''));
    const rawValue = fc.oneof(
      str.map((x) => JSON.stringify(x)),
      // written without escapes where JSON allows
      // eslint-disable-next-line no-control-regex -- the characters JSON requires escaped (U+0000 to U+001F) are dropped
      str.map((x) => `"${x.replace(/[\\"\u0000-\u001f]/g, '')}"`),
      fc.constantFrom('1e2', '100', '1.50', 'true', 'null'),
      str.map((x) => JSON.stringify(x).replace(/[a-z]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`)), // Python's ensure_ascii style
    );
    const line = fc
      .array(rawValue, { minLength: 1, maxLength: 3 })
      .map((vs) => `{${vs.map((v, i) => `"f${i}":${v}`).join(',')}}`);
    const needle = fc.oneof(
      piece,
      fc.constantFrom('k', 'kg', 'i', 'e', '00', 'true', 'u006b', 'kelvin', 'é'),
      fc.string({ minLength: 1, maxLength: 3 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 20 }), needle, async (ls, text) => {
        const ds = await JsonlDataset.open(fileWith(`${ls.join('\n')}\n`));
        await ds.ready;
        const m = new MatchIndex(ds, { text });
        await m.whenDone();
        const expected = brute(ds, { text });
        ds.close();
        assert.deepEqual(all(m), expected);
      }),
      { numRuns: 300 },
    );
  });

  test('a bad regular expression is refused with a clear message', async () => {
    const ds = await JsonlDataset.open(fileWith(lines(10)));
    assert.throws(() => new MatchIndex(ds, { text: '(unclosed', regex: true }), /Invalid regular expression/);
    ds.close();
  });

  test('a document keeps a few indices, one per query, and drops the least recently used', async () => {
    const ds = await JsonlDataset.open(fileWith(lines(100)));
    await ds.ready;
    const keep = new MatchIndexes(() => ds, 2);
    const a = keep.get({ label: 'a' });
    assert.equal(keep.get({ label: 'a' }), a, 'the same query reuses its index');
    assert.equal(queryKey({ label: 'a', text: undefined }), queryKey({ label: 'a' }));
    await new Promise((r) => setTimeout(r, 5));
    keep.get({ label: 'b' });
    await new Promise((r) => setTimeout(r, 5));
    keep.get({ label: 'c' });
    assert.notEqual(keep.get({ label: 'a' }), a, 'the oldest was dropped');
    keep.dispose();
    ds.close();
  });
});
