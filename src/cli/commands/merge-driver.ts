// curate merge-driver %O %A %B %P: git's merge driver for JSONL datasets (src/core/git/merge.ts);
// curate merge-driver --install: writes it into the repository's config and .gitattributes.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { installMergeDriver } from '../../core/git/git';
import { mergeFiles } from '../../core/git/merge';
import { defaultFields } from '../../core/schema/annotation';
import { ExitCode, UsageError, intOption, type Command } from '../cli';
import { fieldFlags, fieldMapOf } from './util';

export const mergeDriver: Command = {
  name: 'merge-driver',
  summary:
    "git's merge driver for .jsonl: merges by record, keeps two people's different decisions, conflicts only per record",
  usage:
    'curate merge-driver BASE OURS THEIRS [PATH] [--marker-size N] [--key FIELD]   (git runs it: %O %A %B %P)\n       curate merge-driver --install [--command CMD]',
  details:
    'Install once per clone: "curate merge-driver --install" sets merge.curate.name and merge.curate.driver in the repository\'s\n' +
    'config and adds "*.jsonl merge=curate" to the top folder\'s .gitattributes (commit it). --command is how git runs curate\n' +
    '(default "curate"; e.g. "npx curate" or "node /path/to/curate.js").\n' +
    'The merge: records pair by id (see curate help diff). Records changed on one side come from that side; the same record\n' +
    'decided differently by two people keeps both decisions (annotations.decisions.<question>) and goes to the "disagreement"\n' +
    'review queue; a record whose text changed on both sides is put between conflict markers (that record only) and the exit\n' +
    'code is 1, so git reports the conflict. The result is written over OURS (%A), atomically.',
  options: {
    install: { type: 'boolean' },
    command: { type: 'string' },
    'marker-size': { type: 'string' },
    key: { type: 'string' },
    ...fieldFlags,
  },
  async run({ values, positionals }, io) {
    if (values.install) {
      if (positionals.length) throw new UsageError('--install takes no files');
      const command = typeof values.command === 'string' && values.command.trim() ? values.command.trim() : 'curate';
      const r = await installMergeDriver(process.cwd(), command);
      io.out(`merge.curate.driver = ${r.driver}  (in ${r.root}/.git/config)\n`);
      io.out(
        r.attributesAdded
          ? `${r.attributesFile}: added "*.jsonl merge=curate" (commit it so that everyone merges the same way)\n`
          : `${r.attributesFile} already has "*.jsonl merge=curate"\n`,
      );
      return ExitCode.ok;
    }
    if (positionals.length < 3 || positionals.length > 4)
      throw new UsageError('give BASE OURS THEIRS [PATH] (git passes %O %A %B %P)');
    const [base, ours, theirs, name] = positionals as [string, string, string, string | undefined];
    for (const f of [base, ours, theirs]) if (!existsSync(f)) throw new UsageError(`no such file: ${f}`);
    const markerSize = values['marker-size'] === undefined ? 7 : intOption(values['marker-size'], 'marker-size', 1);
    const key = typeof values.key === 'string' ? values.key : undefined;
    const what = name ?? ours;
    try {
      const r = await mergeFiles(base, ours, theirs, {
        fields: fieldMapOf(values) ?? defaultFields,
        ...(key ? { keyField: key } : {}),
        ...(name ? { name } : {}),
        markerSize,
        signal: io.signal,
      });
      for (const d of r.disagreements)
        io.err(
          `curate merge: ${what}:${d.line}: ${d.label} decided differently (${d.questions.join(', ')}): both decisions kept, sent to the "disagreement" review queue\n`,
        );
      for (const c of r.conflicts) io.err(`curate merge: ${what}:${c.line}: CONFLICT ${c.label}: ${c.reason}\n`);
      io.err(
        `curate merge: ${what}: ${r.merged} record(s) merged from both sides, ${r.disagreements.length} disagreement(s), ${r.conflicts.length} conflict(s)\n`,
      );
      return r.conflicts.length ? ExitCode.failure : ExitCode.ok;
    } catch (err) {
      if (err instanceof Error && err.name === 'AbortError') throw err;
      // The records could not be read (not JSONL?): git's own line merge, so the user still gets a result.
      io.err(
        `curate merge: ${what}: ${err instanceof Error ? err.message : String(err)}; falling back to git's line merge\n`,
      );
      try {
        execFileSync('git', ['merge-file', '-L', 'ours', '-L', 'base', '-L', 'theirs', ours, base, theirs], {
          stdio: 'ignore',
        });
        return ExitCode.ok;
      } catch {
        return ExitCode.failure;
      }
    }
  },
};
