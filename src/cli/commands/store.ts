// curate stats | get | set | validate: the dataset store from the command line.
import { existsSync, statSync } from 'node:fs';
import { JsonlDataset, ConflictError, LossyEditError } from '../../core/jsonl';
import { statsOperation, type DatasetStats } from '../../core/stats';
import { quietContext } from '../../core/operation';
import { ExitCode, UsageError, intOption, requireFile, type Command } from '../cli';

function openable(file: string): string {
  if (!existsSync(file)) throw new UsageError(`no such file: ${file}`);
  if (statSync(file).isDirectory()) throw new UsageError(`${file} is a folder, not a dataset file`);
  return file;
}

function parsePath(p: string): (string | number)[] {
  if (!p || p.split('.').some((s) => s === '')) throw new UsageError(`--field must be a dotted path like "label" or "judge.score", got ${JSON.stringify(p)}`);
  return p.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

export const stats: Command = {
  name: 'stats',
  summary: 'Records, invalid lines, label counts, judge score histogram, annotated share',
  usage: 'curate stats FILE [--json]',
  options: { json: { type: 'boolean' } },
  async run({ values, positionals }, io) {
    const file = openable(requireFile(positionals));
    const ctx = quietContext(io.signal);
    const s: DatasetStats = await statsOperation.run({ file }, ctx);
    if (values.json) {
      io.out(`${JSON.stringify(s, null, 2)}\n`);
      return ExitCode.ok;
    }
    const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
    io.out(`${s.file}\n`);
    io.out(`  records         ${s.records}\n`);
    io.out(`  invalid lines   ${s.invalid}\n`);
    io.out(`  annotated       ${pct(s.annotatedShare)} (${s.annotated})\n`);
    io.out(`  reviewed        ${pct(s.reviewedShare)} (${s.reviewed})\n`);
    if (s.meanScore !== null) io.out(`  mean judge      ${s.meanScore.toFixed(2)} over ${s.scored} scored\n`);
    const labels = Object.entries(s.labels).sort((a, b) => b[1] - a[1]);
    if (labels.length) {
      io.out('  labels\n');
      const w = Math.max(...labels.map(([l]) => l.length));
      for (const [l, n] of labels) io.out(`    ${l.padEnd(w)}  ${String(n).padStart(7)}  ${pct(n / Math.max(1, s.records))}\n`);
    }
    if (s.scoreHistogram.length) {
      io.out('  judge scores\n');
      const max = Math.max(...s.scoreHistogram.map((b) => b.count));
      for (const b of s.scoreHistogram) io.out(`    ${b.bucket.padStart(4)}  ${String(b.count).padStart(7)}  ${'#'.repeat(Math.round((b.count / max) * 30))}\n`);
    }
    if (s.invalidLines.length) {
      io.out('  invalid\n');
      for (const l of s.invalidLines) io.out(`    line ${l.line}: ${l.reason}\n`);
      if (s.invalid > s.invalidLines.length) io.out(`    ... and ${s.invalid - s.invalidLines.length} more\n`);
    }
    return ExitCode.ok;
  },
};

export const get: Command = {
  name: 'get',
  summary: 'Print one line exactly as stored',
  usage: 'curate get FILE --line N',
  options: { line: { type: 'string', short: 'l' } },
  async run({ values, positionals }, io) {
    const file = openable(requireFile(positionals));
    const n = intOption(values.line, 'line');
    const ds = await JsonlDataset.open(file);
    try {
      await ds.ready;
      if (n > ds.lineCount) throw new UsageError(`line ${n} does not exist: ${file} has ${ds.lineCount} line(s)`);
      const line = ds.line(n - 1);
      io.stdout.write(line.bytes());
      io.stdout.write(line.eol || '\n');
      return ExitCode.ok;
    } finally {
      ds.close();
    }
  },
};

export const set: Command = {
  name: 'set',
  summary: 'Set one field of one record (atomic save; other lines untouched)',
  usage: 'curate set FILE --line N --field PATH --value JSON',
  options: { line: { type: 'string', short: 'l' }, field: { type: 'string', short: 'f' }, value: { type: 'string', short: 'v' } },
  async run({ values, positionals }, io) {
    const file = openable(requireFile(positionals));
    const n = intOption(values.line, 'line');
    if (typeof values.field !== 'string') throw new UsageError('missing --field PATH');
    if (typeof values.value !== 'string') throw new UsageError('missing --value JSON');
    const path = parsePath(values.field);
    let value: unknown;
    try {
      value = JSON.parse(values.value);
    } catch (err) {
      throw new UsageError(`--value must be JSON (quote strings: --value '"positive"'): ${err instanceof Error ? err.message : String(err)}`);
    }
    const ds = await JsonlDataset.open(file);
    try {
      await ds.ready;
      if (n > ds.lineCount) throw new UsageError(`line ${n} does not exist: ${file} has ${ds.lineCount} line(s)`);
      try {
        ds.setField(n - 1, path, value);
      } catch (err) {
        if (err instanceof LossyEditError) {
          io.err(`curate: ${err.message}\n`);
          return ExitCode.failure;
        }
        throw err;
      }
      try {
        await ds.save({ signal: io.signal });
      } catch (err) {
        if (err instanceof ConflictError) {
          io.err(`curate: ${err.message}\n`);
          return ExitCode.conflict;
        }
        throw err;
      }
      io.err(`set ${values.field} on line ${n} of ${file}\n`);
      return ExitCode.ok;
    } finally {
      ds.close();
    }
  },
};

export const validate: Command = {
  name: 'validate',
  summary: 'Exit 1 and list the invalid lines when there are any',
  usage: 'curate validate FILE [--json]',
  options: { json: { type: 'boolean' } },
  async run({ values, positionals }, io) {
    const file = openable(requireFile(positionals));
    const ds = await JsonlDataset.open(file);
    const problems: { line: number; reason: string; severity: 'error' | 'warning' }[] = [];
    try {
      await ds.ready;
      for (let i = 0; i < ds.lineCount; i++) {
        const l = ds.line(i);
        if (l.invalid) problems.push({ line: i + 1, reason: l.invalid.reason, severity: 'error' });
        else if (l.lossy) problems.push({ line: i + 1, reason: l.lossy.reason, severity: 'warning' });
      }
      const errors = problems.filter((p) => p.severity === 'error').length;
      if (values.json) io.out(`${JSON.stringify({ file, lines: ds.lineCount, errors, warnings: problems.length - errors, problems }, null, 2)}\n`);
      else {
        for (const p of problems) io.out(`${file}:${p.line}: ${p.severity}: ${p.reason}\n`);
        io.out(`${file}: ${ds.lineCount} line(s), ${errors} invalid, ${problems.length - errors} warning(s)\n`);
      }
      return errors > 0 ? ExitCode.failure : ExitCode.ok;
    } finally {
      ds.close();
    }
  },
};
