// The options of a batch job, beside its journals (`<job>.batch.op.json`): what a face needs to
// resume the job later without asking again (VS Code on activation, batchJobs.ts). One file per
// operation run: a job whose requests go to several models' batch jobs (`<job>~<model>`,
// answers.ts modelJob) has one file of options for all of them. Never the API key (it is not an
// option); paths made absolute. A cascade run as a batch (cascade-run.ts) has one file for its
// stages' jobs (`<job>.stage<n>`).
//
// The file also says whether the job is running (`state`): "running" from the moment a run starts
// until the whole operation returns, "done" then. A job of several rounds (a preference's judge
// after its candidates, a dialogue's turns, a cascade's stages, the online pass that applies the
// answers) has moments where every batch journal of it is ended and the next round is not built
// yet: stopped there, only this state says the job is unfinished (operation.ts pendingBatchJobs).
// A file written before the state existed has none: its job is unfinished only when a journal is.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
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

/** The job's run state in its file of options (see above). */
export type BatchJobState = 'running' | 'done';

interface OptionsFile {
  version: 1;
  task: string;
  options: Record<string, unknown>;
  state?: BatchJobState;
}

function writeAtomic(path: string, body: OptionsFile): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(body)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/** The file's content, or undefined when it is not one (left as it is: pendingBatchJobs reports it). */
function readOptionsFile(path: string): OptionsFile | undefined {
  try {
    const raw = JSON.parse(readFileSync(path, 'utf8')) as Partial<OptionsFile> | null;
    if (!raw || typeof raw !== 'object' || typeof raw.task !== 'string' || !raw.options) return undefined;
    if (typeof raw.options !== 'object') return undefined;
    return { version: 1, task: raw.task, options: raw.options, ...(raw.state ? { state: raw.state } : {}) };
  } catch {
    return undefined;
  }
}

/** The run state a file of options records (undefined: written before the state was, or unreadable). */
export function batchJobState(optionsPath: string): BatchJobState | undefined {
  const s = readOptionsFile(optionsPath)?.state;
  return s === 'running' || s === 'done' ? s : undefined;
}

/**
 * Writes the options of batch job `jobId` (registry id `task`) into the journal folder `dir`,
 * atomically, once: a run that resumes the job finds them there already. The job is marked
 * running (again, when an earlier run had finished it) until finishBatchJob.
 */
export function writeBatchJobOptions(
  dir: string,
  jobId: string,
  task: string,
  o: { input: string; output?: string | undefined } & Record<string, unknown>,
): void {
  const path = join(dir, `${jobId}.batch.op.json`);
  if (existsSync(path)) {
    const body = readOptionsFile(path);
    if (body && body.state !== 'running') writeAtomic(path, { ...body, state: 'running' });
    return;
  }
  const options: Record<string, unknown> = {
    ...o,
    input: resolve(o.input),
    ...(typeof o.output === 'string' ? { output: resolve(o.output) } : {}),
    ...(Array.isArray(o.seedFiles) ? { seedFiles: o.seedFiles.map((f) => resolve(String(f))) } : {}),
    jobId,
  };
  mkdirSync(dir, { recursive: true });
  writeAtomic(path, { version: 1, task, options, state: 'running' });
}

/**
 * Marks batch job `jobId` done: its whole operation returned (every round's answers applied). A
 * job stopped before, even between two rounds, stays running, and is resumed on activation.
 */
export function finishBatchJob(dir: string, jobId: string): void {
  const path = join(dir, `${jobId}.batch.op.json`);
  const body = existsSync(path) ? readOptionsFile(path) : undefined;
  if (body && body.state !== 'done') writeAtomic(path, { ...body, state: 'done' });
}
