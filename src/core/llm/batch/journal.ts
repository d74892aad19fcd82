// The batch journal: what a batch job has sent where, written the moment it exists, so a killed
// process run again resumes the same batches and never sends the same requests twice.
// `<target>.curator-journal/<job>.batch.jsonl`, append-only, one JSON object a line:
//
//   {"type":"header","version":1,"kind":"batch","job":"…","endpoint":"/v1/chat/completions","base_url":"…","model":"…","created":"…"}
//   {"type":"part","part":0,"round":0,"file":"<job>-0.jsonl","requests":50000,"bytes":…,"sha256":"…"}   input file written
//   {"type":"built","round":0,"parts":[0,1],"requests":100000,"depth":0}   every input file of a round is
//                                                                  written (depth 1: a follow-up of round `parent`)
//   {"type":"uploading","part":0,"filename":"…"}                   before the upload starts
//   {"type":"uploaded","part":0,"file_id":"file-…"}                fsynced before anything else
//   {"type":"creating","part":0,"input_file_id":"file-…"}          before the batch is created
//   {"type":"created","part":0,"batch_id":"batch_…"}               fsynced before anything else
//   {"type":"status","part":0,"status":"in_progress","completed":12,"failed":0,"total":50000}
//   {"type":"ended","part":0,"status":"completed","output_file_id":"file-…","error_file_id":null,…}
//   {"type":"downloaded","part":0,"output":"<job>-0.output.jsonl","errors":null}
//   {"type":"applied","part":0,"ok":49990,"failed":10}             the caller flushed the part's results
//   {"type":"cancel","time":"…"}                                   `batch cancel` was asked
//   {"type":"end","time":"…"}
//
// The windows a kill can fall into are closed on resume: an `uploading` without `uploaded` looks
// the file up by name and size (Files API list) before uploading again, a `creating` without
// `created` looks the batch up by its input file (Batch API list) before creating one. The journal
// holds ids and counts only, never the API key or request content (that is in the input files).
import { fsyncSync, openSync, closeSync } from 'node:fs';
import { JournalWriter, scanJournal } from '../../jobs/journal';

export interface BatchJournalHeader {
  type: 'header';
  version: 1;
  kind: 'batch';
  job: string;
  endpoint: string;
  base_url: string;
  model: string;
  created: string;
}

export type BatchStatusName =
  'validating' | 'failed' | 'in_progress' | 'finalizing' | 'completed' | 'expired' | 'cancelling' | 'cancelled';

export type BatchJournalEntry =
  | BatchJournalHeader
  | { type: 'part'; part: number; round: number; file: string; requests: number; bytes: number; sha256: string }
  | { type: 'built'; round: number; parts: number[]; requests: number; depth?: number; parent?: number } // depth absent: 0
  | { type: 'uploading'; part: number; filename: string }
  | { type: 'uploaded'; part: number; file_id: string }
  | { type: 'creating'; part: number; input_file_id: string }
  | { type: 'created'; part: number; batch_id: string }
  | { type: 'status'; part: number; status: BatchStatusName; completed: number; failed: number; total: number }
  | {
      type: 'ended';
      part: number;
      status: BatchStatusName;
      output_file_id: string | null;
      error_file_id: string | null;
      completed: number;
      failed: number;
      total: number;
      errors?: string;
    }
  | { type: 'downloaded'; part: number; output: string | null; errors: string | null }
  | { type: 'applied'; part: number; ok: number; failed: number }
  | { type: 'cancel'; time: string }
  | { type: 'end'; time: string };

export interface PartState {
  part: number;
  round: number;
  file: string;
  requests: number;
  bytes: number;
  sha256: string;
  /** Set when an upload started (the name it was uploaded under). */
  uploading?: string;
  fileId?: string;
  creating?: string;
  batchId?: string;
  status?: BatchStatusName;
  counts?: { completed: number; failed: number; total: number };
  ended?: { status: BatchStatusName; output_file_id: string | null; error_file_id: string | null; errors?: string };
  downloaded?: { output: string | null; errors: string | null };
  applied?: { ok: number; failed: number };
}

export interface BatchJournalState {
  header?: BatchJournalHeader;
  parts: Map<number, PartState>;
  /** Rounds whose input files are all written. */
  built: Map<number, { parts: number[]; requests: number; depth: number; parent?: number }>;
  cancelRequested: boolean;
  ended: boolean;
  goodLength: number;
}

export function readBatchJournal(path: string): BatchJournalState {
  const st: BatchJournalState = {
    parts: new Map(),
    built: new Map(),
    cancelRequested: false,
    ended: false,
    goodLength: 0,
  };
  st.goodLength = scanJournal(path, (entry) => {
    const e = entry as BatchJournalEntry; // a line this journal wrote
    const p = 'part' in e && typeof e.part === 'number' ? st.parts.get(e.part) : undefined;
    switch (e.type) {
      case 'header':
        st.header = e;
        break;
      case 'part':
        st.parts.set(e.part, {
          part: e.part,
          round: e.round,
          file: e.file,
          requests: e.requests,
          bytes: e.bytes,
          sha256: e.sha256,
        });
        break;
      case 'built':
        // a round built after the job's end (records added or edited since, run again): not ended any more
        st.ended = false;
        st.built.set(e.round, {
          parts: e.parts,
          requests: e.requests,
          depth: e.depth ?? 0,
          ...(e.parent !== undefined ? { parent: e.parent } : {}),
        });
        break;
      case 'uploading':
        if (p) p.uploading = e.filename;
        break;
      case 'uploaded':
        if (p) p.fileId = e.file_id;
        break;
      case 'creating':
        if (p) p.creating = e.input_file_id;
        break;
      case 'created':
        if (p) p.batchId = e.batch_id;
        break;
      case 'status':
        if (p) {
          p.status = e.status;
          p.counts = { completed: e.completed, failed: e.failed, total: e.total };
        }
        break;
      case 'ended':
        if (p) {
          p.status = e.status;
          p.counts = { completed: e.completed, failed: e.failed, total: e.total };
          p.ended = {
            status: e.status,
            output_file_id: e.output_file_id,
            error_file_id: e.error_file_id,
            ...(e.errors !== undefined ? { errors: e.errors } : {}),
          };
        }
        break;
      case 'downloaded':
        if (p) p.downloaded = { output: e.output, errors: e.errors };
        break;
      case 'applied':
        if (p) p.applied = { ok: e.ok, failed: e.failed };
        break;
      case 'cancel':
        st.cancelRequested = true;
        break;
      case 'end':
        st.ended = true;
        break;
    }
  });
  // Parts not listed by their round's `built` entry were being written when the process died (a
  // round written again may have fewer parts): not used.
  for (const [i, p] of st.parts) if (!st.built.get(p.round)?.parts.includes(i)) st.parts.delete(i);
  return st;
}

/** The journal's writer: `durable` entries are fsynced before `append` returns. */
export class BatchJournal {
  private readonly w: JournalWriter<BatchJournalEntry>;
  constructor(
    readonly path: string,
    goodLength?: number,
  ) {
    this.w = new JournalWriter<BatchJournalEntry>(path, goodLength);
  }
  append(e: BatchJournalEntry, durable = true): void {
    this.w.append(e);
    if (durable) this.w.sync();
  }
  close(): void {
    this.w.close();
  }
}

/** fsyncs a folder (after renames in it). */
export function fsyncDir(dir: string): void {
  let fd = -1;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    /* not supported on every platform */
  } finally {
    if (fd !== -1) closeSync(fd);
  }
}
