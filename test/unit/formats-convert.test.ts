// JSON arrays (streamed element by element, any chunk size) and CSV (csv-parse) read as records
// and converted to JSONL.
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { FormatError, convertToJsonl, detectFormat, readCsv, readJsonArray } from '../../src/core/formats';
import { fileWith, tempDir } from './helpers/store';

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

describe('JSON arrays', () => {
  test('any JSON array is read element by element at every chunk size', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.jsonValue(), { maxLength: 8 }),
        fc.integer({ min: 1, max: 16 }),
        fc.boolean(),
        async (arr, chunkSize, pretty) => {
          const path = fileWith(JSON.stringify(arr, null, pretty ? 2 : undefined), 'a.json');
          assert.deepEqual(await all(readJsonArray(path, { chunkSize })), JSON.parse(JSON.stringify(arr)));
        },
      ),
      { numRuns: 200 },
    );
  });

  test('strings with brackets, commas and escaped quotes; a BOM; whitespace', async () => {
    const text = '\ufeff [ {"a":"],[\\"}"} , "x,y" ,\n[1,[2]] , null ]\n';
    for (const chunkSize of [1, 2, 3, 1024]) {
      assert.deepEqual(await all(readJsonArray(fileWith(text, 'b.json'), { chunkSize })), [
        { a: '],["}' },
        'x,y',
        [1, [2]],
        null,
      ]);
    }
  });

  test('what is not one JSON array is a clear error', async () => {
    await assert.rejects(
      all(readJsonArray(fileWith('{"a":1}', 'c.json'))),
      (e: unknown) => e instanceof FormatError && /not a JSON array/.test(e.message),
    );
    await assert.rejects(all(readJsonArray(fileWith('[1,2', 'd.json'))), /not closed/);
    await assert.rejects(all(readJsonArray(fileWith('[1,,2]', 'e.json'))), /empty array element/);
    await assert.rejects(all(readJsonArray(fileWith('[1] x', 'f.json'))), /after the end/);
    await assert.rejects(all(readJsonArray(fileWith('[{"a":}]', 'g.json'))), /invalid JSON/);
    await assert.rejects(all(readJsonArray(fileWith('', 'h.json'))), /empty/);
    assert.deepEqual(await all(readJsonArray(fileWith('[]', 'i.json'))), []);
  });
});

describe('CSV', () => {
  test('quoted fields with commas, quotes and newlines; CRLF; BOM; values stay strings', async () => {
    const path = fileWith('\ufefftext,label,score\r\n"hello, ""world""",pos,007\r\n"two\nlines",neg,1.0\r\n', 'a.csv');
    assert.deepEqual(await all(readCsv(path, { chunkSize: 3 })), [
      { text: 'hello, "world"', label: 'pos', score: '007' },
      { text: 'two\nlines', label: 'neg', score: '1.0' },
    ]);
  });

  test('a malformed CSV is a clear error with its line', async () => {
    await assert.rejects(
      all(readCsv(fileWith('a,b\n1,2,3\n', 'b.csv'))),
      (e: unknown) => e instanceof FormatError && /invalid CSV/.test(e.message) && /line 2/.test(e.message),
    );
  });
});

describe('convertToJsonl', () => {
  test('CSV, TSV and JSON arrays become one compact JSON value a line, atomically', async () => {
    const dir = tempDir();
    const csv = fileWith('a,b\n1,x\n2,y\n', 'in.csv', dir);
    const r = await convertToJsonl(csv, join(dir, 'out.jsonl'));
    assert.deepEqual(r.records, 2);
    assert.equal(readFileSync(join(dir, 'out.jsonl'), 'utf8'), '{"a":"1","b":"x"}\n{"a":"2","b":"y"}\n');
    const tsv = fileWith('a\tb\n1\tx\n', 'in.tsv', dir);
    await convertToJsonl(tsv, join(dir, 'tsv.jsonl'));
    assert.equal(readFileSync(join(dir, 'tsv.jsonl'), 'utf8'), '{"a":"1","b":"x"}\n');
    const json = fileWith('[{"t": "é\\u00e9"}, {"n": 1.5}]', 'in.json', dir);
    await convertToJsonl(json, join(dir, 'json.jsonl'));
    assert.equal(readFileSync(join(dir, 'json.jsonl'), 'utf8'), '{"t":"éé"}\n{"n":1.5}\n');
    assert.ok(!readdirSync(dir).some((n) => n.endsWith('.tmp')));
  });

  test('a failed conversion leaves no output and no temp file', async () => {
    const dir = tempDir();
    const bad = fileWith('[1, 2, {"a":', 'bad.json', dir);
    await assert.rejects(convertToJsonl(bad, join(dir, 'out.jsonl')), FormatError);
    assert.deepEqual(readdirSync(dir), ['bad.json']);
  });

  test('formats come from the extension', () => {
    assert.equal(detectFormat('x.JSONL'), 'jsonl');
    assert.equal(detectFormat('x.ndjson'), 'jsonl');
    assert.equal(detectFormat('x.json'), 'json');
    assert.equal(detectFormat('x.csv'), 'csv');
    assert.equal(detectFormat('x.txt'), undefined);
  });
});
