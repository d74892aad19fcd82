// The semantic diff (src/core/git/diff.ts) and the merge driver (src/core/git/merge.ts) on a large
// file, against what a user runs instead in the same run: `git diff --no-index --stat` (a line diff
// of the same two files; it says lines changed, not which labels) and `git merge-file` (git's own
// line merge of the same three files).
//
//   node --import tsx bench/gitdiff.ts [--size-mb 256] [--changed 0.01]
//
// The new file relabels `changed` of the records (a human decision each) and moves 1% of them; the
// merge's other side judges another `changed` share. Figures: diff and merge time, their ratio to
// git's, and peak RSS. Writes bench/results/gitdiff.json.
import { spawnSync } from 'node:child_process';
import { copyFileSync, createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { diffFiles } from '../src/core/git/diff';
import { mergeFiles } from '../src/core/git/merge';
import { report, time, timeAsync } from './lib';
import { writeRecords } from './records';

async function rewrite(
  src: string,
  dst: string,
  edit: (rec: Record<string, unknown>, i: number) => Record<string, unknown> | undefined,
  moveEvery = 0,
): Promise<void> {
  const out = createWriteStream(dst);
  let held: string | undefined;
  let i = 0;
  for await (const line of createInterface({ input: createReadStream(src), crlfDelay: Infinity })) {
    if (!line) continue;
    const rec = JSON.parse(line) as Record<string, unknown>;
    const next = edit(rec, i);
    let text = next ? JSON.stringify(next) : line;
    // move: hold a record back and write it after the next one
    if (moveEvery && i % moveEvery === 0 && held === undefined) held = text;
    else {
      if (!out.write(`${text}\n`)) await once(out, 'drain');
      if (held !== undefined) {
        text = held;
        held = undefined;
        if (!out.write(`${text}\n`)) await once(out, 'drain');
      }
    }
    i++;
  }
  if (held !== undefined) out.write(`${held}\n`);
  out.end();
  await once(out, 'finish');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { 'size-mb': { type: 'string', default: '256' }, changed: { type: 'string', default: '0.01' } },
  });
  const sizeMb = Number(values['size-mb']);
  const share = Number(values.changed);
  const every = Math.max(1, Math.round(1 / share));
  const dir = mkdtempSync(join(tmpdir(), 'dc-bench-gitdiff-'));
  try {
    const base = join(dir, 'base.jsonl');
    writeRecords(base, sizeMb * 1024 * 1024);
    const ours = join(dir, 'ours.jsonl');
    const theirs = join(dir, 'theirs.jsonl');
    const decide = (rec: Record<string, unknown>, i: number) =>
      i % every === 0
        ? {
            ...rec,
            label: 'neutral',
            annotations: {
              ...(rec.annotations as object),
              human: { label: { value: 'neutral', user: 'maria', status: 'submitted', time: '2026-12-06T09:00:00Z' } },
            },
          }
        : undefined;
    const judge = (rec: Record<string, unknown>, i: number) =>
      i % every === Math.floor(every / 2)
        ? {
            ...rec,
            judges: [
              {
                score: 7,
                scale: [1, 10],
                model: 'judge-2',
                provenance: { prompt_hash: 'sha256:b', time: '2026-12-06T10:00:00Z' },
              },
            ],
          }
        : undefined;
    await rewrite(base, ours, decide, 100);
    await rewrite(base, theirs, judge);
    const records = Math.round(statSync(base).size / 1100);

    const gitDiff = time(() =>
      spawnSync('git', ['diff', '--no-index', '--stat', base, ours], { encoding: 'utf8', maxBuffer: 1 << 26 }),
    );
    const diff = await timeAsync(() => diffFiles(base, ours));
    const gitMergeTarget = join(dir, 'git-merge.jsonl');
    copyFileSync(ours, gitMergeTarget);
    const gitMerge = time(() =>
      spawnSync('git', ['merge-file', '-p', gitMergeTarget, base, theirs], { stdio: ['ignore', 'ignore', 'ignore'] }),
    );
    const mergeTarget = join(dir, 'merge.jsonl');
    copyFileSync(ours, mergeTarget);
    const merge = await timeAsync(() => mergeFiles(base, mergeTarget, theirs));
    // memory: the CLI in its own process (peak RSS by /usr/bin/time), against git diff's
    const maxRss = (cmd: string[]): number => {
      const r = spawnSync('/usr/bin/time', ['-f', '%M', ...cmd], { encoding: 'utf8', maxBuffer: 1 << 28 });
      return Number(r.stderr.trim().split('\n').at(-1)) / 1024;
    };
    const cliRss = maxRss([
      process.execPath,
      '--import',
      'tsx',
      join(__dirname, '..', 'src/cli/main.ts'),
      'diff',
      base,
      ours,
      '--json',
    ]);
    const gitRss = maxRss(['git', 'diff', '--no-index', '--stat', base, ours]);
    console.log(
      `${sizeMb} MB, ~${records} records; diff: ${diff.value.summary.changed} changed, ${diff.value.summary.moved} moved; merge: ${merge.value.merged} merged, ${merge.value.conflicts.length} conflicts; git merge-file exit ${gitMerge.value.status}`,
    );
    report(
      'gitdiff',
      [
        {
          figure: `curate diff, ${sizeMb} MB`,
          value: diff.ms / 1000,
          unit: 's',
          baseline: gitDiff.ms / 1000,
          baselineLabel: 'git diff --no-index --stat',
          ratio: diff.ms / gitDiff.ms,
          target: '<= 5x git diff',
          pass: diff.ms <= 5 * gitDiff.ms,
        },
        {
          figure: `curate merge-driver, ${sizeMb} MB`,
          value: merge.ms / 1000,
          unit: 's',
          baseline: gitMerge.ms / 1000,
          baselineLabel: 'git merge-file',
          ratio: merge.ms / gitMerge.ms,
          target: '<= 5x git merge-file',
          pass: merge.ms <= 5 * gitMerge.ms,
        },
        {
          figure: `curate diff peak RSS, ${sizeMb} MB`,
          value: cliRss,
          unit: 'MB',
          baseline: gitRss,
          baselineLabel: 'git diff --no-index peak RSS',
          ratio: cliRss / gitRss,
          target: "<= git diff's",
          pass: cliRss <= gitRss,
        },
      ],
      {
        sizeMb,
        records,
        changedShare: share,
        diffSummary: diff.value.summary,
        merged: merge.value.merged,
        gitMergeExit: gitMerge.value.status,
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
