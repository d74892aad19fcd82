// The editor session (src/core/session): one model of what the curation editor shows, over the
// store (the VS Code document's) and over lines in memory (the dev page's), with the same answers;
// the label set the text editor's quick fixes offer is the same inference.
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MatchIndexes } from '../../src/core/match-index';
import { matchesQuery } from '../../src/core/query';
import {
  EditorSession,
  ScanMatches,
  inferLabels,
  type SessionHost,
  type SessionLines,
} from '../../src/core/session/session';
import { editorStats } from '../../src/core/session/stats';
import { JsonlDataset, type Edit } from '../../src/core/store';
import type { SearchQuery } from '../../src/core/session/views';
import { fileWith } from './helpers/store';

const sample = readFileSync(join(__dirname, '..', '..', 'samples', 'reviews.jsonl'), 'utf8');
const extra = [
  '{"id":"broken", "label": positive}',
  JSON.stringify({ id: 'pair', prompt: 'p', chosen: 'good', rejected: 'bad', chosen_rating: 9, rejected_rating: 2 }),
];
const text = `${sample.trimEnd()}\n${extra.join('\n')}\n`;

/** Lines in memory, the way the dev page keeps them. */
function memoryLines(raw: string[]): SessionLines<void> & { raw: string[] } {
  const parse = (s: string) => {
    try {
      const v = JSON.parse(s) as unknown;
      return v !== null && typeof v === 'object' && !Array.isArray(v)
        ? { value: v as Record<string, unknown> }
        : { invalid: { reason: 'not an object' } };
    } catch (err) {
      return { invalid: { reason: `invalid JSON: ${err instanceof Error ? err.message : String(err)}` } };
    }
  };
  const edited = new Set<number>();
  return {
    raw,
    get lineCount() {
      return raw.length;
    },
    indexed: true,
    line: (i) => ({ raw: raw[i]!, ...parse(raw[i]!), edited: edited.has(i) }),
    replaceLine(i, v) {
      edited.add(i);
      raw[i] =
        typeof v === 'object' && v !== null && 'raw' in v && Object.keys(v).length === 1
          ? String(v.raw)
          : JSON.stringify(v);
    },
    setField(i, path, value) {
      edited.add(i);
      const v = JSON.parse(raw[i]!) as Record<string, unknown>;
      v[String(path[0])] = value;
      raw[i] = JSON.stringify(v);
    },
  };
}

const host = (matches: SessionHost['matches']): SessionHost => ({
  fileName: () => 'reviews.jsonl',
  dirty: () => false,
  configuredLabels: () => [],
  disagreement: () => 0.3,
  matches,
});

async function both(): Promise<{
  store: EditorSession<Edit>;
  memory: EditorSession<void>;
  ds: JsonlDataset;
  close: () => void;
}> {
  const ds = await JsonlDataset.open(fileWith(text));
  await ds.ready;
  const indexes = new MatchIndexes(() => ds);
  const lines = memoryLines(text.trimEnd().split('\n'));
  const store = new EditorSession<Edit>(
    () => ds,
    host((q) => indexes.get(q)),
  );
  const memory = new EditorSession<void>(
    () => lines,
    host((q) => new ScanMatches(lines.lineCount, (i) => matchesQuery(q)(lines.line(i)))),
  );
  return {
    store,
    memory,
    ds,
    close: () => {
      indexes.dispose();
      ds.close();
    },
  };
}

describe('editor session', () => {
  test('over the store and over lines in memory: the same records, rows, outline and searches', async () => {
    const { store, memory, close } = await both();
    try {
      const { dirty: _d, ...info } = store.info();
      assert.ok(info.labels.length >= 2, 'labels inferred from the sample');
      assert.deepEqual({ ...memory.info(), dirty: false }, { ...info, dirty: false });
      for (let i = 0; i < info.lineCount; i++) assert.deepEqual(memory.record(i), store.record(i), `record ${i}`);
      assert.deepEqual(memory.rows(0, 50, ['id', 'text', 'raw']), store.rows(0, 50, ['id', 'text', 'raw']));
      const queries: SearchQuery[] = [
        { text: 'the' },
        { label: info.labels[0] },
        { invalid: true },
        { minScore: 7 },
        { reviewStatus: 'pending' },
        { text: 'ba.', regex: true },
      ];
      for (const query of queries) {
        await waitDone(store, query); // the store's index is built in slices: compared once complete
        for (const direction of ['forward', 'backward'] as const) {
          const p = { query, from: 5, direction, limit: 3 };
          assert.deepEqual(await memory.search(p), await store.search(p), `${JSON.stringify(query)} ${direction}`);
        }
        assert.deepEqual(
          memory.matchRows({ query, start: 0, count: 5, columns: ['id'] }).rows,
          (await waitDone(store, query)).rows,
        );
        assert.deepEqual(
          await memory.matchPosition({ query, index: 4, wait: true }),
          await store.matchPosition({ query, index: 4, wait: true }),
        );
      }
    } finally {
      close();
    }
  });

  test("a person's edit: the new record, the undo stack's name; invalid lines take raw edits only", async () => {
    const { store, memory, ds, close } = await both();
    try {
      const at = store.info().lineCount - 2; // the invalid line
      for (const s of [store, memory]) {
        const r = s.edit({ op: 'relabel', index: 0, label: 'neutral' }, new Date('2026-01-01T00:00:00Z'));
        assert.equal(r.label, 'Relabel as neutral');
        assert.equal(s.record(0).annotation?.label, 'neutral');
        assert.equal(s.record(0).edited, true);
        assert.throws(() => s.edit({ op: 'relabel', index: at, label: 'x' }), /not a valid record.*raw JSON/);
        assert.equal(s.edit({ op: 'replaceRaw', index: at, raw: '{"id":"fixed"}' }).label, `Edit line ${at + 1}`);
        assert.equal(s.record(at).value?.id, 'fixed');
        assert.throws(() => s.record(10_000), /Line 10001 does not exist/);
      }
      assert.deepEqual(memory.record(0), store.record(0));
      assert.equal(ds.line(0).raw, memory.record(0).raw, 'the same bytes from both');
    } finally {
      close();
    }
  });

  test('the label set: configured, else inferred (the text editor features use the same inference), kept until a change', async () => {
    const lines = memoryLines([
      JSON.stringify({ label: 'b' }),
      JSON.stringify({ label: 'a', annotations: { suggestions: { label: [{ value: 'c', type: 'model' }] } } }),
    ]);
    let configured: string[] = [];
    const s = new EditorSession<void>(() => lines, {
      ...host(() => new ScanMatches(0, () => false)),
      configuredLabels: () => configured,
    });
    assert.deepEqual(s.labels(), ['a', 'b', 'c']);
    assert.deepEqual(
      inferLabels(lines.lineCount, (i) => lines.line(i)),
      ['a', 'b', 'c'],
    );
    lines.replaceLine(0, { label: 'z' });
    assert.deepEqual(s.labels(), ['a', 'b', 'c'], 'kept until the session hears of a change');
    s.changed();
    assert.deepEqual(s.labels(), ['a', 'c', 'z']);
    configured = ['x', 'y'];
    assert.deepEqual(s.labels(), ['x', 'y']);
  });

  test('the label set follows the lines it is told were edited (a job labelling the first records), reading only those again', () => {
    // 2500 lines: the first 2000 give the set; a label further down does not.
    const raw = Array.from({ length: 2500 }, (_, i) =>
      JSON.stringify({ id: i, ...(i % 7 === 0 ? { label: 'pos' } : {}) }),
    );
    const lines = memoryLines(raw);
    let reads = 0;
    const counted: typeof lines = Object.assign(Object.create(lines) as typeof lines, {
      line: (i: number) => {
        reads++;
        return lines.line(i);
      },
    });
    const s = new EditorSession<void>(
      () => counted,
      host(() => new ScanMatches(0, () => false)),
    );
    assert.deepEqual(s.labels(), ['pos']);
    const full = () => inferLabels(lines.lineCount, (i) => lines.line(i));
    // A job's results: each record's label replaced, the page asking for the set in between.
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let round = 0; round < 40; round++) {
      const changes: { type: 'replace'; index: number }[] = [];
      for (let k = 0; k < 5; k++) {
        const index = rnd(2500);
        const label = ['pos', 'neg', 'neutral', undefined][rnd(4)];
        raw[index] = JSON.stringify({ id: index, ...(label ? { label } : {}) });
        changes.push({ type: 'replace', index });
      }
      s.changed(changes);
      reads = 0;
      assert.deepEqual(s.labels(), full(), `round ${round}`);
      assert.ok(reads <= 5, `round ${round}: ${reads} lines read again for 5 edited`);
    }
    // The only record labelled 'neutral' among the first records relabelled: 'neutral' leaves the set.
    for (let i = 0; i < 2000; i++) raw[i] = JSON.stringify({ id: i, label: i === 3 ? 'neutral' : 'pos' });
    s.changed(); // a change it is not told the lines of: read again
    assert.deepEqual(s.labels(), ['pos', 'neutral'].sort());
    raw[3] = JSON.stringify({ id: 3, label: 'pos' });
    s.changed([{ type: 'replace', index: 3 }]);
    assert.deepEqual(s.labels(), ['pos']);
    // A line deleted among the first records moves line 2000 in: read again.
    raw.splice(0, 1);
    raw[1999] = JSON.stringify({ id: 2000, label: 'moved-in' });
    s.changed([{ type: 'delete', index: 0 }]);
    assert.deepEqual(s.labels(), ['moved-in', 'pos']);
    assert.deepEqual(s.labels(), full());
  });
});

async function waitDone(s: EditorSession<Edit>, query: SearchQuery) {
  await s.matchPosition({ query, index: Number.MAX_SAFE_INTEGER, wait: true });
  return s.matchRows({ query, start: 0, count: 5, columns: ['id'] });
}

test('the statistics view: the store figures over the open dataset (its edits included), the judges only when records have two', async () => {
  const judged = (i: number) =>
    JSON.stringify({
      id: i,
      label: 'a',
      judges: [
        { score: 8, model: 'x' },
        { score: i % 2 ? 2 : 8, model: 'y' },
      ],
      judge: { score: 5 },
    });
  const ds = await JsonlDataset.open(fileWith(`${[0, 1, 2, 3].map(judged).join('\n')}\n`));
  try {
    const s = await editorStats(ds, 0.3);
    assert.equal(s.records, 4);
    assert.deepEqual(s.judges?.raters, ['x', 'y']);
    assert.equal(s.judges.disagree, 2);
    ds.replaceLine(0, { id: 0, label: 'b' });
    assert.deepEqual((await editorStats(ds, 0.3)).labels, { a: 3, b: 1 });
  } finally {
    ds.close();
  }
  const plain = await JsonlDataset.open(fileWith(`${JSON.stringify({ label: 'a', judge: { score: 3 } })}\n`));
  try {
    assert.equal((await editorStats(plain, 0.3)).judges, undefined);
  } finally {
    plain.close();
  }
});

test('the search bar`s count: asked for one match past its limit, a search with exactly that many matches gives the total once the file is read, not "at least" (the last match long before the end)', async () => {
  // 200,000 records, a match in five of the first fifty. A regular expression is tested on every
  // parsed record (no byte shortcut), so the index is built over several slices: the five are
  // found long before the rest of the file is read.
  const lines = Array.from({ length: 200_000 }, (_, i) =>
    JSON.stringify({ id: i, text: `row ${i} ${i < 50 && i % 10 === 3 ? 'zebra' : 'apple'} lemon mango`, label: 'a' }),
  );
  const ds = await JsonlDataset.open(fileWith(`${lines.join('\n')}\n`));
  await ds.ready;
  const indexes = new MatchIndexes(() => ds);
  try {
    const session = new EditorSession<Edit>(
      () => ds,
      host((q) => indexes.get(q)),
    );
    // as the page's search bar asks for its count with a limit of five (webview/editor/search-bar.ts)
    const count = (query: SearchQuery) => session.search({ query, from: 0, direction: 'forward', limit: 5 + 1 });
    assert.deepEqual(await count({ text: 'z.bra', regex: true }), { matches: [3, 13, 23, 33, 43], total: 5 });
    // with more matches than the limit it answers before the end, without a total: "5+"
    assert.deepEqual(await count({ text: 'l.mon', regex: true }), { matches: [0, 1, 2, 3, 4, 5] });
    // asked for the limit itself, the answer comes at the fifth match, before the end: no total
    // (what the count was made from before: "5+" for five)
    const early = await session.search({
      query: { text: 'z.bra', regex: true },
      from: 0,
      direction: 'forward',
      limit: 5,
    });
    assert.deepEqual(early.matches, [3, 13, 23, 33, 43]);
  } finally {
    indexes.dispose();
    ds.close();
  }
});
