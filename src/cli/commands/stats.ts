// curate stats FILE [--json]
// Its bundle (dist/cli-stats.js) loads neither zod nor the store's index (test/unit/cli-set.test.ts):
// its start is part of what bench/stats.ts measures against DuckDB.
import { DEFAULT_FIELD_NAMES } from '../../core/schema/field-names';
import { statsOfPath } from '../../core/store/stats';
import { modelCollapseWarning } from '../../core/metrics/generated';
import { ExitCode, fileArg, intOption, type Command } from '../cli';
import { fieldFlags, fieldMapOf } from './field-flags';
import { assertJsonl } from './jsonl-only';

export const stats: Command = {
  name: 'stats',
  summary: 'Records, invalid lines, label counts, judge score histogram, annotated and machine-generated shares',
  usage:
    'curate stats FILE [--json] [--max-listed N] [--label-field NAME] [--judge-field NAME] [--annotations-field NAME]',
  details:
    'Counts every line: invalid ones are listed with their 1-based numbers and reasons (the first --max-listed, default 100; the total is always given).\n--json prints the stable keys documented in docs/cli.md.',
  options: {
    json: { type: 'boolean' },
    'max-listed': { type: 'string' },
    ...fieldFlags,
  },
  async run({ values, positionals }, io) {
    const file = fileArg(positionals);
    const maxListed = values['max-listed'] === undefined ? 100 : intOption(values['max-listed'], 'max-listed', 0);
    const fields = fieldMapOf(values) ?? DEFAULT_FIELD_NAMES;
    assertJsonl(file);
    // No dataset opened: the file's bytes as they are, no line index (which only edits need), no
    // cleaning of the folder's stale temps (a crashed save's: left to the next writer). The main
    // thread counts too (it would only wait for the workers), and the workers end with the count.
    let s = await statsOfPath(file, fields, { signal: io.signal, maxListed, inThread: true, endWorkers: true });
    s = { ...s, file };
    const collapse = modelCollapseWarning(s.generated, s.records);
    if (values.json) {
      // The JSON keeps its stable keys; the warning goes to stderr.
      if (collapse) io.err(`curate stats: warning: ${collapse}\n`);
      io.out(`${JSON.stringify(s, null, 2)}\n`);
      return ExitCode.ok;
    }
    const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
    io.out(`${file}\n`);
    io.out(`  lines           ${s.lines}\n`);
    io.out(`  records         ${s.records}\n`);
    io.out(`  invalid lines   ${s.invalid}\n`);
    io.out(`  annotated       ${pct(s.annotatedShare)} (${s.annotated})\n`);
    io.out(`  reviewed        ${pct(s.reviewedShare)} (${s.reviewed})\n`);
    io.out(
      `  generated       ${pct(s.generatedShare)} (${s.generated})  machine-generated (annotations.origin); the rest count as human-written\n`,
    );
    if (collapse) io.out(`  warning         ${collapse}\n`);
    if (s.meanScore !== null) io.out(`  mean judge      ${s.meanScore.toFixed(2)} over ${s.scored} scored\n`);
    const labels = Object.entries(s.labels);
    if (labels.length) {
      io.out('  labels\n');
      const w = Math.max(...labels.map(([l]) => l.length));
      for (const [l, n] of labels)
        io.out(`    ${l.padEnd(w)}  ${String(n).padStart(9)}  ${pct(n / Math.max(1, s.records))}\n`);
    }
    if (s.scoreHistogram.length) {
      io.out('  judge scores\n');
      const max = Math.max(...s.scoreHistogram.map((b) => b.count));
      for (const b of s.scoreHistogram)
        io.out(
          `    ${b.bucket.padStart(4)}  ${String(b.count).padStart(9)}  ${'#'.repeat(Math.max(1, Math.round((b.count / max) * 30)))}\n`,
        );
    }
    if (s.invalidLines.length) {
      io.out('  invalid\n');
      for (const l of s.invalidLines) io.out(`    line ${l.line}: ${l.reason}\n`);
      if (s.invalid > s.invalidLines.length) io.out(`    ... and ${s.invalid - s.invalidLines.length} more\n`);
    }
    return ExitCode.ok;
  },
};
