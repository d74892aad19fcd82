// Parquet conversion speed: `curate convert` (hyparquet / hyparquet-writer, pure JS) against DuckDB
// (@duckdb/node-api, native, all cores: the fastest thing a user would pick instead), both ways,
// on the same ~1 KB annotated records, in the same run. Also the readiness check's tokenizer speed.
//
//   node --import tsx bench/parquet.ts [--records 200000]
import { statSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { convertToJsonl, convertToParquet } from '../src/core/formats';
import { countTokens } from '../src/core/llm/tokenizer';
import { report, timeAsync, time, type Row } from './lib';
import { writeRecords } from './records';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { records: { type: 'string', default: '200000' } } });
  const records = Number(values.records);
  const dir = mkdtempSync(join(tmpdir(), 'dc-bench-parquet-'));
  try {
    const jsonl = join(dir, 'data.jsonl');
    writeRecords(jsonl, records * 1000); // ~1 KB a record
    const mb = statSync(jsonl).size / 1e6;
    const db = await DuckDBInstance.create(':memory:');
    const duck = await db.connect();

    const ours1 = await timeAsync(() => convertToParquet(jsonl, join(dir, 'ours.parquet')));
    const theirs1 = await timeAsync(() =>
      duck.run(`COPY (SELECT * FROM read_json('${jsonl}')) TO '${join(dir, 'duck.parquet')}' (FORMAT parquet)`),
    );
    const ours2 = await timeAsync(() => convertToJsonl(join(dir, 'ours.parquet'), join(dir, 'ours.jsonl')));
    const theirs2 = await timeAsync(() =>
      duck.run(`COPY (SELECT * FROM '${join(dir, 'ours.parquet')}') TO '${join(dir, 'duck.jsonl')}' (FORMAT json)`),
    );
    // Parquet keeps one field order per struct column: a record whose nested keys come in another
    // order than the column's comes back with the column's order (the same values). So: every record
    // the same value, and how many lines also came back byte for byte.
    const before = readFileSync(jsonl, 'utf8').split('\n');
    const after = readFileSync(join(dir, 'ours.jsonl'), 'utf8').split('\n');
    const same =
      before.length === after.length &&
      before.every((l, i) => l === after[i] || isDeepStrictEqual(JSON.parse(l), JSON.parse(after[i] ?? '')));
    const byteIdenticalLines = before.filter((l, i) => l === after[i]).length / before.length;

    const text = readFileSync(jsonl, 'utf8').slice(0, 20_000_000);
    countTokens('warm up');
    const tok = time(() => countTokens(text));
    const bytesBaseline = time(() => Buffer.byteLength(text, 'utf8') / 4);

    const rows: Row[] = [
      {
        figure: 'JSONL -> Parquet (MB/s)',
        value: mb / (ours1.ms / 1000),
        unit: 'MB/s',
        baseline: mb / (theirs1.ms / 1000),
        baselineLabel: 'DuckDB read_json -> COPY parquet',
        ratio: theirs1.ms / ours1.ms,
        target: 'report (pure JS vs native)',
        pass: true,
      },
      {
        figure: 'Parquet -> JSONL (MB/s of JSONL)',
        value: mb / (ours2.ms / 1000),
        unit: 'MB/s',
        baseline: mb / (theirs2.ms / 1000),
        baselineLabel: 'DuckDB COPY (FORMAT json)',
        ratio: theirs2.ms / ours2.ms,
        target: 'report; round trip gives the same records',
        pass: same,
      },
      {
        figure: 'tokens counted (MB/s, o200k_base)',
        value: text.length / 1e6 / (tok.ms / 1000),
        unit: 'MB/s',
        baseline: text.length / 1e6 / (Math.max(bytesBaseline.ms, 0.001) / 1000),
        baselineLabel: 'bytes / 4',
        ratio: bytesBaseline.ms / tok.ms,
        target: 'report',
        pass: true,
      },
    ];
    report('parquet', rows, {
      records,
      megabytes: mb,
      parquetBytes: statSync(join(dir, 'ours.parquet')).size,
      duckParquetBytes: statSync(join(dir, 'duck.parquet')).size,
      roundTripSameRecords: same,
      roundTripByteIdenticalLines: byteIdenticalLines,
    });
    duck.closeSync();
    db.closeSync();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
