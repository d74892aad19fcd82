// curate convert FILE --out FILE.jsonl|FILE.parquet [--format csv|tsv|json|parquet|jsonl|jsonl.gz] [--force]
// A face over the core's `convert` operation (src/core/formats/convert.ts).
import { ZodError } from 'zod';
import { CONVERT_INPUTS, convertOperation } from '../../core/formats/convert';
import { UserError } from '../../core/operation';
import { existsSync } from 'node:fs';
import { ExitCode, UsageError, stringOption, type Command } from '../cli';

export const convert: Command = {
  name: 'convert',
  summary: 'Convert CSV, TSV, JSON arrays, Parquet and .jsonl.gz to JSONL, or JSONL to Parquet',
  usage:
    'curate convert FILE|DIR --out FILE.jsonl|FILE.parquet [--format csv|tsv|json|parquet|jsonl|jsonl.gz] [--split train] [--row-group-size N] [--force]',
  details:
    'The input format comes from the extension (.csv, .tsv, .json, .parquet, .jsonl, .ndjson, .jsonl.gz)\n' +
    'unless --format says; the output format from --out (.parquet, else JSONL). CSV needs a header line;\n' +
    'values stay strings. A JSON array is read element by element and Parquet a row group at a time\n' +
    '(any size); nested lists and structs stay nested and 64-bit integers keep every digit. To Parquet:\n' +
    'a schema is inferred from the records (a column whose values differ in kind is written as JSON\n' +
    'text). A folder is a Hugging Face dataset (data/train-00000-of-00002.parquet, ...): --split (train)\n' +
    'is read shard after shard. The output is written atomically; an existing --out is only replaced\n' +
    'with --force.',
  options: {
    out: { type: 'string', short: 'o' },
    format: { type: 'string' },
    force: { type: 'boolean' },
    'row-group-size': { type: 'string' },
    split: { type: 'string' },
  },
  async run({ values, positionals }, io) {
    // a folder is a Hugging Face dataset: fileArg refuses folders, so the checks are here
    const file = positionals[0];
    if (!file) throw new UsageError('missing FILE');
    if (positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}`);
    if (!existsSync(file)) throw new UsageError(`no such file: ${file}`);
    const out = stringOption(values.out, 'out FILE.jsonl')!;
    const f = values.format;
    if (f !== undefined && (typeof f !== 'string' || !(CONVERT_INPUTS as readonly string[]).includes(f)))
      throw new UsageError(`--format must be one of ${CONVERT_INPUTS.join(', ')}, got ${JSON.stringify(f)}`);
    if (existsSync(out) && values.force !== true) throw new UsageError(`${out} exists; pass --force to replace it`);
    let rowGroupSize: number | undefined;
    if (values['row-group-size'] !== undefined) {
      rowGroupSize = Number(values['row-group-size']);
      if (!Number.isInteger(rowGroupSize) || rowGroupSize < 1)
        throw new UsageError('--row-group-size must be a positive integer');
    }
    let options;
    try {
      options = convertOperation.options.parse({
        file,
        out,
        ...(f ? { format: f } : {}),
        overwrite: values.force === true,
        ...(rowGroupSize ? { rowGroupSize } : {}),
        ...(values.split ? { split: values.split } : {}),
      });
    } catch (err) {
      if (err instanceof ZodError)
        throw new UsageError(err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'));
      throw err;
    }
    let last = 0;
    try {
      const r = await convertOperation.run(options, {
        signal: io.signal,
        log: (l) => io.err(`${l}\n`),
        progress: (p) => {
          if (!io.isTTY || Date.now() - last < 200) return;
          last = Date.now();
          io.err(`\r${p.done}${p.total ? ` of ${p.total}` : ''} record(s)   `);
        },
      });
      io.err(
        `${file} -> ${out}: ${r.records} record(s)${r.columns !== undefined ? `, ${r.columns} column(s), ${r.bytes} bytes` : ''} in ${r.ms} ms\n`,
      );
      return ExitCode.ok;
    } catch (err) {
      if (err instanceof UserError) {
        if (err.exitCode === 1) {
          io.err(`curate convert: ${err.message}\n`);
          return ExitCode.failure;
        }
        throw new UsageError(err.message);
      }
      throw err;
    }
  },
};
