// The options of a batch job, beside its journals (`<job>.batch.op.json`): what a face needs to
// resume the job later without asking again (VS Code on activation, batchJobs.ts). One file per
// operation run: a job whose requests go to several models' batch jobs (`<job>~<model>`,
// answers.ts modelJob) has one file of options for all of them. Never the API key (it is not an
// option); paths made absolute. A cascade run as a batch (cascade-run.ts) has one file for its
// stages' jobs (`<job>.stage<n>`).
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/**
 * The file of options of the job a batch journal belongs to (`<job>~<model>.batch.jsonl` →
 * `<job>.batch.op.json`); a cascade's stage (`<job>.stage<n>.batch.jsonl`, cascade-run.ts) belongs
 * to the cascade's job, unless a job of that very name has options of its own.
 */
export function jobOptionsPath(journalPath: string): string {
  const name = basename(journalPath).replace(/\.batch\.jsonl$/, '');
  const job = name.includes('~') ? name.slice(0, name.indexOf('~')) : name;
  const own = join(dirname(journalPath), `${job}.batch.op.json`);
  const stage = /^(.+)\.stage\d+$/.exec(job);
  if (!stage || existsSync(own)) return own;
  return join(dirname(journalPath), `${stage[1] as string}.batch.op.json`);
}

/** The job id a batch journal belongs to (its name before `~<model>`). */
export function jobOfJournal(journalPath: string): string {
  return basename(jobOptionsPath(journalPath)).replace(/\.batch\.op\.json$/, '');
}

/**
 * Writes the options of batch job `jobId` (registry id `task`) into the journal folder `dir`,
 * atomically, once: a run that resumes the job finds them there already.
 */
export function writeBatchJobOptions(
  dir: string,
  jobId: string,
  task: string,
  o: { input: string; output?: string | undefined } & Record<string, unknown>,
): void {
  const path = join(dir, `${jobId}.batch.op.json`);
  if (existsSync(path)) return;
  const options: Record<string, unknown> = {
    ...o,
    input: resolve(o.input),
    ...(typeof o.output === 'string' ? { output: resolve(o.output) } : {}),
    ...(Array.isArray(o.seedFiles) ? { seedFiles: o.seedFiles.map((f) => resolve(String(f))) } : {}),
    jobId,
  };
  mkdirSync(dir, { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ version: 1, task, options })}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}
