// curate validate FILE [--json] [--strict]
import { ExitCode, fileArg, intOption, type Command } from '../cli';
import { openJsonl } from './util';

interface Problem {
  line: number;
  severity: 'error' | 'warning';
  reason: string;
}

export const validate: Command = {
  name: 'validate',
  summary: 'Check every line; exit 1 and list the invalid ones when there are any',
  usage: 'curate validate FILE [--json] [--strict] [--max-listed N]',
  details:
    'Errors: lines that are not one JSON object (bad JSON, blank, BOM, lone CR, invalid UTF-8, ...).\n' +
    'Warnings: records a structured edit would change beyond the edit (duplicate keys, integers\n' +
    'beyond 2^53, 1.0 written as 1, ...); --strict makes warnings fail too.',
  options: { json: { type: 'boolean' }, strict: { type: 'boolean' }, 'max-listed': { type: 'string' } },
  async run({ values, positionals }, io) {
    const file = fileArg(positionals);
    const maxListed = values['max-listed'] === undefined ? 1000 : intOption(values['max-listed'], 'max-listed', 0);
    const ds = await openJsonl(file, io.signal);
    const problems: Problem[] = [];
    let errors = 0;
    let warnings = 0;
    try {
      for (let i = 0; i < ds.lineCount; i++) {
        if ((i & 0xfff) === 0 && io.signal.aborted) {
          const e = new Error('aborted');
          e.name = 'AbortError';
          throw e;
        }
        const l = ds.line(i);
        let p: Problem | undefined;
        if (l.invalid) {
          errors++;
          p = { line: i + 1, severity: 'error', reason: l.invalid.reason };
        } else if (l.lossy) {
          warnings++;
          p = { line: i + 1, severity: 'warning', reason: l.lossy.reason };
        }
        if (p && problems.length < maxListed) problems.push(p);
      }
    } finally {
      ds.close();
    }
    const failed = errors > 0 || (values.strict === true && warnings > 0);
    const lines = ds.lineCount;
    if (values.json) {
      io.out(`${JSON.stringify({ file, lines, valid: !failed, errors, warnings, problems }, null, 2)}\n`);
    } else if (errors === 0 && warnings === 0) {
      io.out(`${file}: ${lines} line(s), all valid\n`);
    } else {
      for (const p of problems) io.out(`${file}:${p.line}: ${p.severity}: ${p.reason}\n`);
      if (errors + warnings > problems.length) io.out(`... and ${errors + warnings - problems.length} more\n`);
      io.out(`${file}: ${lines} line(s), ${errors} invalid, ${warnings} warning(s)\n`);
    }
    return failed ? ExitCode.failure : ExitCode.ok;
  },
};
