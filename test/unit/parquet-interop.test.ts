// Parquet against an independent implementation: DuckDB (@duckdb/node-api, a dev dependency, never
// in the extension) writes files that we must read exactly, and reads back the files we write.
// Also: convert streams by row group, 64-bit integers keep every digit, the Hugging Face layout,
// and gzip-compressed JSONL input.
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { parquetInfo, readParquetRows, writeParquet } from '../../src/core/formats/parquet';
import { convertToJsonl, convertToParquet } from '../../src/core/formats';
import { toJsonText, parseJsonExact } from '../../src/core/formats/json-text';
import {
  exportOperation,
  ExportOperationOptions,
  importOperation,
  ImportOperationOptions,
} from '../../src/core/export/export';
import { quietContext } from '../../src/core/operation';
import { tempDir } from './helpers/store';

let db: DuckDBInstance;
let duck: DuckDBConnection;
const dir = tempDir('dc-parquet-');

before(async () => {
  db = await DuckDBInstance.create(':memory:');
  duck = await db.connect();
});
after(() => {
  duck.closeSync();
  db.closeSync();
});

/** DuckDB's rows as JSON text (its BIGINTs come as decimal strings: made numbers, exact, by parseJsonExact). */
async function duckRows(sql: string): Promise<unknown[]> {
  const r = await duck.runAndReadAll(sql);
  return r.getRowObjectsJson();
}

async function ours(path: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for await (const r of readParquetRows(path)) out.push(r);
  return out;
}

const MESSAGES =
  "[{'role': 'user', 'content': 'q' || i::VARCHAR}, {'role': 'assistant', 'content': 'a' || i::VARCHAR}]";

for (const codec of ['snappy', 'zstd', 'gzip', 'uncompressed']) {
  test(`a file DuckDB writes (${codec}, 3 row groups, nested lists and structs, INT64 extremes) reads exactly`, async () => {
    const path = join(dir, `duck-${codec}.parquet`);
    await duck.run(`COPY (
      SELECT i AS id,
             CASE WHEN i = 0 THEN 9223372036854775807::BIGINT WHEN i = 1 THEN (-9223372036854775807 - 1)::BIGINT ELSE i * 1000000007 END AS big,
             ${MESSAGES} AS messages,
             {'score': i / 4, 'tags': ['t' || (i % 3)::VARCHAR, 'x'], 'ok': i % 2 = 0} AS meta,
             CASE WHEN i % 5 = 0 THEN NULL ELSE 'text ' || i::VARCHAR END AS text,
             [[i, i + 1], []] AS nested
      FROM range(5000) t(i)
    ) TO '${path}' (FORMAT parquet, COMPRESSION ${codec}, ROW_GROUP_SIZE 2048)`);
    const info = await parquetInfo(path);
    assert.equal(info.rows, 5000);
    assert.equal(info.rowGroups, 3, 'several row groups (read one at a time)');
    assert.deepEqual(info.columns, ['id', 'big', 'messages', 'meta', 'text', 'nested']);
    const mine = await ours(path);
    assert.equal(mine.length, 5000);
    assert.equal(mine[0]!.big, 9223372036854775807n, 'INT64 max, exact');
    assert.equal(mine[1]!.big, -9223372036854775808n, 'INT64 min, exact');
    assert.deepEqual(mine[7]!.messages, [
      { role: 'user', content: 'q7' },
      { role: 'assistant', content: 'a7' },
    ]);
    assert.deepEqual(mine[7]!.meta, { score: 1.75, tags: ['t1', 'x'], ok: false });
    assert.equal(mine[5]!.text, null);
    assert.deepEqual(mine[4999]!.nested, [[4999n, 5000n], []]);
    // every row, as JSON, equals DuckDB's own JSON of it (to_json writes BIGINTs with every digit)
    const theirs = (await duckRows(`SELECT to_json(t)::VARCHAR AS j FROM '${path}' t`)) as { j: string }[];
    assert.equal(theirs.length, 5000);
    for (let k = 0; k < 5000; k++)
      assert.deepEqual(parseJsonExact(toJsonText(mine[k])), parseJsonExact(theirs[k]!.j), `row ${k}`);
  });
}

test('DuckDB reads the files we write: nested lists and structs, INT64, doubles, booleans, nulls, mixed columns as JSON', async () => {
  const records = [
    {
      id: 'a',
      n: 9007199254740993n,
      f: 0.5,
      ok: true,
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'yo' },
      ],
      history: [['q', 'a']],
      meta: { k: 1, tags: ['x'] },
      mixed: 'text',
    },
    { id: 'b', n: -3n, f: 2, ok: null, messages: [], history: null, meta: { k: 2, tags: [] }, mixed: { deep: [1, 2] } },
    {
      id: 'c',
      n: 5,
      f: null,
      ok: false,
      messages: [{ role: 'user', content: 'é 日本 😀' }],
      history: [],
      meta: null,
      mixed: 3,
    },
  ];
  const path = join(dir, 'ours.parquet');
  const r = await writeParquet(
    path,
    async function* () {
      yield* records;
    },
    { overwrite: true, rowGroupSize: 2 },
  );
  assert.equal(r.rows, 3);
  const theirs = (await duckRows(`SELECT * FROM '${path}'`)) as Record<string, unknown>[];
  assert.deepEqual(
    theirs.map((x) => x.id),
    ['a', 'b', 'c'],
  );
  assert.deepEqual(
    theirs.map((x) => x.n),
    ['9007199254740993', '-3', '5'],
    'INT64 exact past 2^53',
  );
  assert.deepEqual(
    theirs.map((x) => x.f),
    [0.5, 2, null],
  );
  assert.deepEqual(
    theirs.map((x) => x.ok),
    [true, null, false],
  );
  assert.deepEqual(theirs[0]!.messages, records[0]!.messages);
  assert.deepEqual(theirs[2]!.messages, [{ role: 'user', content: 'é 日本 😀' }]);
  assert.deepEqual(theirs[0]!.history, [['q', 'a']]);
  assert.deepEqual(theirs[0]!.meta, { k: '1', tags: ['x'] });
  assert.deepEqual(
    theirs.map((x) => (x.mixed === null ? null : JSON.parse(x.mixed as string))),
    ['text', { deep: [1, 2] }, 3],
    'a column of mixed kinds is JSON text',
  );
  const types = (await duckRows(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM '${path}')`)) as {
    column_name: string;
    column_type: string;
  }[];
  assert.deepEqual(Object.fromEntries(types.map((t) => [t.column_name, t.column_type])), {
    id: 'VARCHAR',
    n: 'BIGINT',
    f: 'DOUBLE',
    ok: 'BOOLEAN',
    messages: 'STRUCT("role" VARCHAR, "content" VARCHAR)[]',
    history: 'VARCHAR[][]',
    meta: 'STRUCT(k BIGINT, tags VARCHAR[])',
    mixed: 'JSON',
  });
  // and we read our own file back the same
  const back = await ours(path);
  assert.equal(back[0]!.n, 9007199254740993n);
  assert.deepEqual(back[1]!.mixed, { deep: [1, 2] });
  assert.equal((await parquetInfo(path)).rowGroups, 2);
});

test('convert: Parquet to JSONL a row group at a time, 64-bit integers with every digit, and back to identical JSONL', async () => {
  const src = join(dir, 'groups.parquet');
  await duck.run(
    `COPY (SELECT i AS id, 9223372036854775807::BIGINT - i AS big, ['a', 'b'] AS l FROM range(6000) t(i)) TO '${src}' (FORMAT parquet, ROW_GROUP_SIZE 2048)`,
  );
  const groups: number[] = [];
  const rows: Record<string, unknown>[] = [];
  for await (const r of readParquetRows(src, { onRowGroup: (done) => groups.push(done) })) rows.push(r);
  assert.deepEqual(groups, [2048, 4096, 6000], 'one step per row group');
  const out = join(dir, 'groups.jsonl');
  const c = await convertToJsonl(src, out);
  assert.equal(c.records, 6000);
  const lines = readFileSync(out, 'utf8').trim().split('\n');
  assert.equal(lines[0], '{"id":0,"big":9223372036854775807,"l":["a","b"]}');
  assert.equal(lines[5999], '{"id":5999,"big":9223372036854769808,"l":["a","b"]}');
  // JSONL -> Parquet -> JSONL: the same bytes (integers past 2^53 read exact from the text)
  const pq = join(dir, 'groups-again.parquet');
  await convertToParquet(out, pq, { rowGroupSize: 1000 });
  const theirs = (await duckRows(`SELECT max(big)::VARCHAR AS m, count(*)::INTEGER AS n FROM '${pq}'`)) as {
    m: string;
    n: number;
  }[];
  assert.deepEqual(theirs, [{ m: '9223372036854775807', n: 6000 }], 'DuckDB reads the exact maximum');
  const again = join(dir, 'groups-again.jsonl');
  await convertToJsonl(pq, again);
  assert.ok(readFileSync(again).equals(readFileSync(out)), 'byte-identical');
});

test('export --format parquet, an .parquet --out, and the Hugging Face layout (data/train-00000-of-00001.parquet and a dataset card)', async () => {
  const file = join(dir, 'chats.jsonl');
  writeFileSync(
    file,
    [
      {
        id: 1,
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: 'hello' },
        ],
        label: 'ok',
      },
      { id: 2, text: 'no chat' },
      {
        id: 3,
        messages: [
          { role: 'system', content: 's' },
          { role: 'user', content: 'q' },
          { role: 'assistant', content: 'a' },
        ],
      },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n') + '\n',
  );
  const recs = await exportOperation.run(
    ExportOperationOptions.parse({ file, format: 'parquet', out: join(dir, 'records.parquet'), overwrite: true }),
    quietContext(),
  );
  assert.equal(recs.written, 3);
  assert.deepEqual(
    ((await duckRows(`SELECT id FROM '${recs.out}'`)) as { id: string }[]).map((x) => x.id),
    ['1', '2', '3'],
  );

  const sft = await exportOperation.run(
    ExportOperationOptions.parse({ file, format: 'sft', out: join(dir, 'sft.parquet'), overwrite: true }),
    quietContext(),
  );
  assert.equal(sft.written, 2);
  assert.equal(sft.skippedCount, 1);
  assert.equal(sft.container, 'parquet');
  assert.deepEqual(
    (await duckRows(`SELECT messages FROM '${sft.out}'`)).map((x) => (x as { messages: unknown }).messages),
    [
      [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello' },
      ],
      [
        { role: 'system', content: 's' },
        { role: 'user', content: 'q' },
        { role: 'assistant', content: 'a' },
      ],
    ],
  );

  const hub = join(dir, 'hub');
  const h = await exportOperation.run(
    ExportOperationOptions.parse({ file, format: 'sft', out: hub, hub: true, overwrite: true }),
    quietContext(),
  );
  assert.equal(h.out, join(hub, 'data', 'train-00000-of-00001.parquet'));
  assert.ok(existsSync(h.out));
  const card = readFileSync(join(hub, 'README.md'), 'utf8');
  assert.equal(
    card.split('\n---\n')[0],
    [
      '---',
      'dataset_info:',
      '  features:',
      '  - name: messages',
      '    list:',
      '    - name: role',
      '      dtype: string',
      '    - name: content',
      '      dtype: string',
      '  splits:',
      '  - name: train',
      `    num_bytes: ${readFileSync(h.out).length}`,
      '    num_examples: 2',
      `  download_size: ${readFileSync(h.out).length}`,
      `  dataset_size: ${readFileSync(h.out).length}`,
      'configs:',
      '- config_name: default',
      '  data_files:',
      '  - split: train',
      '    path: data/train-*',
    ].join('\n'),
  );
  // a card the user wrote keeps its text; only the header is replaced
  writeFileSync(join(hub, 'README.md'), '---\nold: header\n---\n# My dataset\n\nNotes.\n');
  await exportOperation.run(
    ExportOperationOptions.parse({ file, format: 'sft', out: hub, hub: true, overwrite: true }),
    quietContext(),
  );
  const card2 = readFileSync(join(hub, 'README.md'), 'utf8');
  assert.ok(card2.endsWith('---\n# My dataset\n\nNotes.\n'));
  assert.doesNotMatch(card2, /old: header/);

  // a Hub Parquet file imports like its JSONL
  const back = await importOperation.run(
    ImportOperationOptions.parse({ file: h.out, format: 'sft', out: join(dir, 'from-hub.jsonl'), overwrite: true }),
    quietContext(),
  );
  assert.equal(back.written, 2);
  assert.deepEqual(JSON.parse(readFileSync(back.out!, 'utf8').split('\n')[0]!), {
    messages: [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'hello' },
    ],
  });
});

test('.jsonl.gz is read by convert, export and import (invalid lines reported with their number)', async () => {
  const lines = [
    JSON.stringify({ prompt: 'p', chosen: 'c', rejected: 'r' }),
    '{broken',
    JSON.stringify({ prompt: 'p2', chosen: 'c2', rejected: 'r2' }),
  ];
  const gz = join(dir, 'prefs.jsonl.gz');
  writeFileSync(gz, gzipSync(`${lines.join('\r\n')}\r\n`));
  const r = await exportOperation.run(
    ExportOperationOptions.parse({ file: gz, format: 'dpo', out: join(dir, 'prefs.dpo.jsonl'), overwrite: true }),
    quietContext(),
  );
  assert.equal(r.written, 2);
  assert.equal(r.invalid, 1);
  const i = await importOperation.run(
    ImportOperationOptions.parse({ file: gz, format: 'dpo', out: join(dir, 'prefs.back.jsonl'), overwrite: true }),
    quietContext(),
  );
  assert.equal(i.written, 2);
  assert.equal(i.skipped[0]?.index, 1);
  await assert.rejects(convertToJsonl(gz, join(dir, 'prefs.jsonl')), /line 2: invalid JSON/);
  writeFileSync(gz, gzipSync(`${lines[0]}\n${lines[2]}`)); // no final newline
  assert.equal((await convertToJsonl(gz, join(dir, 'prefs2.jsonl'))).records, 2);
  writeFileSync(join(dir, 'bad.jsonl.gz'), 'not gzip at all');
  await assert.rejects(convertToJsonl(join(dir, 'bad.jsonl.gz'), join(dir, 'bad.jsonl')), /not valid gzip/);
});

test('a Hugging Face dataset folder: a split read shard after shard (our layout, the Hub auto-converted one), for convert, export and import', async () => {
  const hub = join(dir, 'hf-download');
  // the layout `huggingface-cli download` gives: data/<split>-0000i-of-0000n.parquet, and a card
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(hub, 'data'), { recursive: true });
  mkdirSync(join(hub, '.cache'), { recursive: true });
  writeFileSync(join(hub, 'README.md'), '---\nconfigs: []\n---\n');
  await duck.run(
    `COPY (SELECT i AS id, 'q' || i::VARCHAR AS prompt, 'c' || i::VARCHAR AS chosen, 'r' || i::VARCHAR AS rejected FROM range(0, 3) t(i)) TO '${join(hub, 'data', 'train-00000-of-00002.parquet')}' (FORMAT parquet)`,
  );
  await duck.run(
    `COPY (SELECT i AS id, 'q' || i::VARCHAR AS prompt, 'c' || i::VARCHAR AS chosen, 'r' || i::VARCHAR AS rejected FROM range(3, 5) t(i)) TO '${join(hub, 'data', 'train-00001-of-00002.parquet')}' (FORMAT parquet)`,
  );
  await duck.run(
    `COPY (SELECT 99 AS id, 'tq' AS prompt, 'tc' AS chosen, 'tr' AS rejected) TO '${join(hub, 'data', 'test-00000-of-00001.parquet')}' (FORMAT parquet)`,
  );
  await duck.run(
    `COPY (SELECT 1 AS junk) TO '${join(hub, '.cache', 'train-00000-of-00001.parquet')}' (FORMAT parquet)`,
  );
  const { hubSplitFiles } = await import('../../src/core/formats/hf');
  assert.deepEqual(hubSplitFiles(hub, 'train').splits, ['test', 'train']);
  const out = join(dir, 'hf-train.jsonl');
  assert.equal((await convertToJsonl(hub, out)).records, 5, 'the two train shards, not the test split, not .cache');
  assert.deepEqual(
    readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { id: number }).id),
    [0, 1, 2, 3, 4],
  );
  assert.equal((await convertToJsonl(hub, join(dir, 'hf-test.jsonl'), { split: 'test' })).records, 1);
  await assert.rejects(
    convertToJsonl(hub, join(dir, 'hf-x.jsonl'), { split: 'validation' }),
    /no Parquet files of the split "validation" \(it has: test, train\)/,
  );
  const r = await exportOperation.run(
    ExportOperationOptions.parse({ file: hub, format: 'dpo', out: join(dir, 'hf.dpo.jsonl'), overwrite: true }),
    quietContext(),
  );
  assert.equal(r.written, 5);
  // the Hub's auto-converted layout: <config>/<split>/0000.parquet
  const auto = join(dir, 'hf-auto');
  mkdirSync(join(auto, 'default', 'train'), { recursive: true });
  await duck.run(`COPY (SELECT 7 AS id) TO '${join(auto, 'default', 'train', '0000.parquet')}' (FORMAT parquet)`);
  assert.equal((await convertToJsonl(auto, join(dir, 'auto.jsonl'))).records, 1);
});
