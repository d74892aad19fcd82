// curate convert FILE --out FILE.jsonl|FILE.parquet [--format csv|tsv|json|parquet|jsonl|jsonl.gz] [--force]
import { existsSync } from 'node:fs';
import { FormatError, convertToJsonl, convertToParquet, detectFormat, type Format } from '../../core/formats';
import { ParquetError } from '../../core/formats/parquet';
import { ExitCode, UsageError, fileArg, stringOption, type Command } from '../cli';

const INPUTS = ['csv', 'tsv', 'json', 'parquet', 'jsonl', 'jsonl.gz'] as const;

export const convert: Command = {
  name: 'convert',
  summary: 'Convert CSV, TSV, JSON arrays, Parquet and .jsonl.gz to JSONL, or JSONL to Parquet',
  usage: 'curate convert FILE --out FILE.jsonl|FILE.parquet [--format csv|tsv|json|parquet|jsonl|jsonl.gz] [--row-group-size N] [--force]',
  details:
    'The input format comes from the extension (.csv, .tsv, .json, .parquet, .jsonl, .ndjson, .jsonl.gz)\n' +
    'unless --format says; the output format from --out (.parquet, else JSONL). CSV needs a header line;\n' +
    'values stay strings. A JSON array is read element by element and Parquet a row group at a time\n' +
    '(any size); nested lists and structs stay nested and 64-bit integers keep every digit. To Parquet:\n' +
    'a schema is inferred from the records (a column whose values differ in kind is written as JSON\n' +
    'text). The output is written atomically; an existing --out is only replaced with --force.',
  options: { out: { type: 'string', short: 'o' }, format: { type: 'string' }, force: { type: 'boolean' }, 'row-group-size': { type: 'string' } },
  async run({ values, positionals }, io) {
    const file = fileArg(positionals);
    const out = stringOption(values.out, 'out FILE.jsonl')!;
    const f = values.format;
    if (f !== undefined && (typeof f !== 'string' || !(INPUTS as readonly string[]).includes(f))) throw new UsageError(`--format must be one of ${INPUTS.join(', ')}, got ${JSON.stringify(f)}`);
    const format: Format | undefined = (f as Format | undefined) ?? detectFormat(file);
    const toParquet = /\.parquet$/i.test(out);
    if (!format) throw new UsageError(`cannot tell the format of ${file}: pass --format (${INPUTS.join(', ')})`);
    if (!toParquet && format === 'jsonl') throw new UsageError(`${file} is JSONL already: open it as a dataset (or convert it to Parquet with --out FILE.parquet)`);
    if (existsSync(out) && values.force !== true) throw new UsageError(`${out} exists; pass --force to replace it`);
    let rowGroupSize: number | undefined;
    if (values['row-group-size'] !== undefined) {
      rowGroupSize = Number(values['row-group-size']);
      if (!Number.isInteger(rowGroupSize) || rowGroupSize < 1) throw new UsageError('--row-group-size must be a positive integer');
    }
    const started = Date.now();
    let last = 0;
    const onProgress = (n: number) => {
      if (!io.isTTY || Date.now() - last < 200) return;
      last = Date.now();
      io.err(`\r${n} record(s)   `);
    };
    try {
      if (toParquet) {
        const r = await convertToParquet(file, out, { format, signal: io.signal, overwrite: true, onProgress, ...(rowGroupSize ? { rowGroupSize } : {}) });
        io.err(`${file} -> ${out}: ${r.rows} record(s), ${r.columns.size} column(s), ${r.bytes} bytes in ${Date.now() - started} ms\n`);
      } else {
        const r = await convertToJsonl(file, out, { format, signal: io.signal, onProgress });
        io.err(`${file} -> ${out}: ${r.records} record(s) in ${Date.now() - started} ms\n`);
      }
      return ExitCode.ok;
    } catch (err) {
      if (err instanceof FormatError || err instanceof ParquetError) {
        io.err(`curate convert: ${file}: ${err.message}\n`);
        return ExitCode.failure;
      }
      throw err;
    }
  },
};
