// curate convert FILE --out FILE.jsonl [--format csv|tsv|json] [--force]
import { existsSync } from 'node:fs';
import { FormatError, convertToJsonl, detectFormat, type Format } from '../../core/formats';
import { ExitCode, UsageError, fileArg, stringOption, type Command } from '../cli';

export const convert: Command = {
  name: 'convert',
  summary: 'Convert a CSV, TSV or JSON array file to JSONL',
  usage: 'curate convert FILE --out FILE.jsonl [--format csv|tsv|json] [--force]',
  details:
    'The format comes from the extension (.csv, .tsv, .json) unless --format says. CSV needs a header\n' +
    'line; values stay strings. A JSON array is read element by element (any size). The output is\n' +
    'written atomically; an existing --out is only replaced with --force.',
  options: { out: { type: 'string', short: 'o' }, format: { type: 'string' }, force: { type: 'boolean' } },
  async run({ values, positionals }, io) {
    const file = fileArg(positionals);
    const out = stringOption(values.out, 'out FILE.jsonl')!;
    const f = values.format;
    if (f !== undefined && f !== 'csv' && f !== 'tsv' && f !== 'json') throw new UsageError(`--format must be csv, tsv or json, got ${JSON.stringify(f)}`);
    const format: Format | undefined = (f as Format | undefined) ?? detectFormat(file);
    if (!format || format === 'jsonl') throw new UsageError(`cannot convert ${file}: pass --format csv, tsv or json (or use a .csv, .tsv or .json file)`);
    if (existsSync(out) && values.force !== true) throw new UsageError(`${out} exists; pass --force to replace it`);
    try {
      const r = await convertToJsonl(file, out, { format, signal: io.signal });
      io.err(`${file} -> ${out}: ${r.records} record(s)\n`);
      return ExitCode.ok;
    } catch (err) {
      if (err instanceof FormatError) {
        io.err(`curate convert: ${file}: ${err.message}\n`);
        return ExitCode.failure;
      }
      throw err;
    }
  },
};
