// curate diff OLD NEW | curate diff REV1..REV2 FILE: the semantic diff (src/core/git/diff.ts).
import { existsSync, statSync } from 'node:fs';
import { describeRecord, diffFiles, type DiffResult } from '../../core/git/diff';
import { fileAtRevision, parseRange } from '../../core/git/git';
import { defaultFields } from '../../core/schema/annotation';
import { ExitCode, UsageError, type Command } from '../cli';
import { fieldFlags, fieldMapOf } from './util';

const isFile = (f: string) => existsSync(f) && statSync(f).isFile();

export const diff: Command = {
  name: 'diff',
  summary: 'What changed per record between two versions of a file (labels, decisions, judges, text), not per line',
  usage:
    'curate diff OLD NEW [--json] [--key FIELD] [--exit-code]\n       curate diff REV1..REV2 FILE | REV1.. FILE | REV FILE   (a revision against another, or against the file as it is)',
  details:
    'Records pair by id: the first of the fields id, _id, uuid, record_id, example_id, sample_id, prompt_id, question_id that a record\n' +
    'has (a string or a number), or --key FIELD (a dotted path). A record without one pairs by its content outside the annotation fields\n' +
    '(so its text edit shows as one removed and one added). Moved records are not changes.\n' +
    'Each changed record lists what changed: label flips, decisions added or changed (by whom, when), judges and suggestions, review\n' +
    'status, text edits. Revisions are read with the git binary (git cat-file), streamed to a temp file.\n' +
    '--json prints {old, new, summary: {added, removed, changed, unchanged, moved, byKind}, records: [{key, label, change, oldLine, newLine, changes}]}.\n' +
    '--exit-code: exit 1 when something changed (as git diff --exit-code).',
  options: {
    json: { type: 'boolean' },
    key: { type: 'string' },
    'exit-code': { type: 'boolean' },
    ...fieldFlags,
  },
  async run({ values, positionals }, io) {
    if (positionals.length !== 2)
      throw new UsageError(
        positionals.length < 2
          ? 'give two files, or a revision range and a file'
          : `unexpected argument ${JSON.stringify(positionals[2])}`,
      );
    const [first, second] = positionals as [string, string];
    const fields = fieldMapOf(values) ?? defaultFields;
    const key = typeof values.key === 'string' ? values.key : undefined;
    if (key !== undefined && (key === '' || key.split('.').some((s) => s === '')))
      throw new UsageError(`--key must be a field name or dotted path, got ${JSON.stringify(key)}`);
    const cleanup: (() => void)[] = [];
    let oldPath: string;
    let newPath: string;
    let oldName: string;
    let newName: string;
    try {
      if (isFile(first) && isFile(second)) {
        oldPath = oldName = first;
        newPath = newName = second;
      } else {
        if (!isFile(second))
          throw new UsageError(
            existsSync(second) ? `${second} is a folder, not a dataset file` : `no such file: ${second}`,
          );
        const range = parseRange(first);
        const from = await fileAtRevision(second, range.from, io.signal);
        cleanup.push(() => from.dispose());
        oldPath = from.path;
        oldName = `${range.from}:${second}${from.missing ? ' (not in that revision)' : ''}`;
        if (range.to) {
          const to = await fileAtRevision(second, range.to, io.signal);
          cleanup.push(() => to.dispose());
          newPath = to.path;
          newName = `${range.to}:${second}${to.missing ? ' (not in that revision)' : ''}`;
        } else {
          newPath = newName = second;
        }
      }
      const result: DiffResult = await diffFiles(oldPath, newPath, {
        fields,
        ...(key ? { keyField: key } : {}),
        signal: io.signal,
      });
      if (values.json) io.out(`${JSON.stringify({ old: oldName, new: newName, ...result }, null, 2)}\n`);
      else {
        const s = result.summary;
        io.out(`--- ${oldName}\n+++ ${newName}\n`);
        for (const r of result.records) io.out(`${describeRecord(r)}\n`);
        const kinds = Object.entries(s.byKind)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ');
        io.out(
          `${s.changed} changed${kinds ? ` (${kinds})` : ''}, ${s.added} added, ${s.removed} removed, ${s.unchanged} unchanged${s.moved ? `, ${s.moved} moved` : ''}\n`,
        );
      }
      const any = result.summary.added + result.summary.removed + result.summary.changed > 0;
      return values['exit-code'] && any ? ExitCode.failure : ExitCode.ok;
    } finally {
      for (const c of cleanup) c();
    }
  },
};
