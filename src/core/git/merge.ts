// The merge driver (docs/git.md): a three-way merge of a JSONL dataset by record, for
// `.gitattributes: *.jsonl merge=curate`. Records pair by key (./records.ts), not by line:
// - two branches that changed different records merge cleanly (each record from the side that changed it);
// - the same record decided differently by two people keeps both decisions
//   (`annotations.decisions.<question>`, one per person), the current decision is ours, and the record
//   goes to the `disagreement` review queue (`annotations.review = {status: pending, queue: disagreement}`);
// - suggestions, judges, history and tags of both sides are united;
// - a true conflict (the record's text edited on both sides, or edited on one and removed on the
//   other) gets conflict markers around that record only: the rest of the file stays valid JSONL.
// Untouched records keep their bytes. Memory: a key and a hash per line of each version.
import { createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { dirname } from 'node:path';
import { defaultFields, HumanDecision, Judge, panelVerdict, type FieldMap } from '../schema/annotation';
import {
  annotationKeys,
  indexFile,
  isObj,
  keyLabel,
  sameBytes,
  sameJson,
  type KeyIndex,
  type KeyOptions,
} from './records';

type Rec = Record<string, unknown>;

/** The review queue a record decided differently by two people goes to. */
export const DISAGREEMENT_QUEUE = 'disagreement';

export interface RecordMerge {
  value: Rec;
  /** Why the record cannot be merged (its text changed on both sides). */
  conflict?: string;
  /** The questions two people decided differently. */
  disagreements: string[];
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const timeOf = (v: unknown): string =>
  isObj(v) ? (str(v.time) ?? (isObj(v.provenance) ? (str(v.provenance.time) ?? '') : '')) : '';

/** 3-way on one value: the side that changed it; undefined `conflict` when both changed it alike. */
function merge3(base: unknown, ours: unknown, theirs: unknown): { value: unknown; conflict: boolean } {
  if (sameJson(ours, theirs)) return { value: ours, conflict: false };
  if (sameJson(base, ours)) return { value: theirs, conflict: false };
  if (sameJson(base, theirs)) return { value: ours, conflict: false };
  return { value: ours, conflict: true };
}

/**
 * Lists united by key: ours in order, then theirs' others. The same key changed on both sides: the
 * later one (by time), else ours. An entry one side removed and the other left as it was is removed.
 */
function unite(base: unknown, ours: unknown, theirs: unknown, key: (x: unknown) => string): unknown[] | undefined {
  if (ours === undefined && theirs === undefined) return undefined;
  const b = new Map<string, unknown>();
  if (Array.isArray(base)) for (const x of base) b.set(key(x), x);
  const o = Array.isArray(ours) ? ours : [];
  const t = new Map<string, unknown>();
  if (Array.isArray(theirs)) for (const x of theirs) t.set(key(x), x);
  const out: unknown[] = [];
  const seen = new Set<string>();
  for (const x of o) {
    const k = key(x);
    seen.add(k);
    if (!t.has(k)) {
      if (!(b.has(k) && sameJson(b.get(k), x))) out.push(x); // else theirs removed it
      continue;
    }
    const y = t.get(k);
    if (sameJson(x, y) || sameJson(b.get(k), y)) out.push(x);
    else if (sameJson(b.get(k), x)) out.push(y);
    else out.push(timeOf(y) > timeOf(x) ? y : x);
  }
  for (const [k, y] of t) {
    if (seen.has(k)) continue;
    if (!(b.has(k) && sameJson(b.get(k), y))) out.push(y); // else ours removed it
  }
  return out;
}

const canon = (x: unknown): string => JSON.stringify(x);
const judgeKey = (x: unknown): string => {
  if (!isObj(x)) return canon(x);
  const p = isObj(x.provenance) ? x.provenance : {};
  return `${str(x.model) ?? str(p.model) ?? ''}\u0000${str(p.prompt_hash) ?? ''}`;
};
const suggestionKey = (x: unknown): string => {
  if (!isObj(x) || str(x.agent) === undefined) return `#${canon(x)}`;
  const p = isObj(x.provenance) ? x.provenance : {};
  return `${str(x.agent)}\u0000${str(p.task) ?? 'label'}`;
};
const decisionKey = (x: unknown): string =>
  isObj(x) && str(x.user) ? `u:${str(x.user)}` : `v:${canon(isObj(x) ? x.value : x)}`;

function obj(v: unknown): Rec {
  return isObj(v) ? v : {};
}

/** Key order: ours' keys, then theirs' new ones. */
function keysOf(...recs: Rec[]): string[] {
  const out = new Set<string>();
  for (const r of recs) for (const k of Object.keys(r)) out.add(k);
  return [...out];
}

/** Merges the annotations object; `disagree` collects the questions decided differently. */
function mergeAnnotations(
  base: Rec,
  ours: Rec,
  theirs: Rec,
  labels: { ours: unknown; theirs: unknown; question: string; labelConflict: boolean },
): { value: Rec; disagreements: string[] } {
  const out: Rec = {};
  const disagreements: string[] = [];
  const hb = obj(base.human);
  const ho = obj(ours.human);
  const ht = obj(theirs.human);
  const human: Rec = {};
  const decisionLists: Record<string, unknown[]> = {};
  const db = obj(base.decisions);
  const dO = obj(ours.decisions);
  const dT = obj(theirs.decisions);
  for (const q of keysOf(dO, dT)) {
    const u = unite(db[q], dO[q], dT[q], decisionKey);
    if (u) decisionLists[q] = u;
  }
  for (const q of keysOf(ho, ht)) {
    const m = merge3(hb[q], ho[q], ht[q]);
    if (m.conflict && ho[q] !== undefined && ht[q] !== undefined) {
      const a = HumanDecision.safeParse(ho[q]);
      const b = HumanDecision.safeParse(ht[q]);
      if (a.success && b.success && sameJson(a.data.value, b.data.value) && a.data.status === b.data.status) {
        human[q] = ho[q]; // the same decision (other time or person): no disagreement
        const both = unite(undefined, decisionLists[q] ?? [], [ho[q], ht[q]], decisionKey);
        if (str(a.data.user) !== str(b.data.user)) decisionLists[q] = both ?? [];
        continue;
      }
      disagreements.push(q);
      human[q] = ho[q];
      decisionLists[q] = unite(undefined, decisionLists[q] ?? [], [ho[q], ht[q]], decisionKey) ?? [];
    } else if (m.value !== undefined) human[q] = m.value;
  }
  if (labels.labelConflict && !disagreements.includes(labels.question)) {
    // the label changed on both sides without (different) decisions: both kept as decisions
    disagreements.push(labels.question);
    const side = (v: unknown, h: unknown) => (isObj(h) && sameJson(h.value, v) ? h : { value: v, status: 'submitted' });
    decisionLists[labels.question] =
      unite(
        undefined,
        decisionLists[labels.question] ?? [],
        [side(labels.ours, ho[labels.question]), side(labels.theirs, ht[labels.question])],
        decisionKey,
      ) ?? [];
  }
  for (const k of keysOf(ours, theirs)) {
    switch (k) {
      case 'human':
        if (Object.keys(human).length) out.human = human;
        break;
      case 'decisions':
        break; // below
      case 'suggestions': {
        const sb = obj(base.suggestions);
        const so = obj(ours.suggestions);
        const st = obj(theirs.suggestions);
        const s: Rec = {};
        for (const q of keysOf(so, st)) {
          const u = unite(sb[q], so[q], st[q], suggestionKey);
          if (u && u.length) s[q] = u;
        }
        out.suggestions = s;
        break;
      }
      case 'history':
      case 'tags': {
        const u = unite(base[k], ours[k], theirs[k], (x) => canon(x));
        if (u) out[k] = u;
        break;
      }
      case 'review':
        break; // below
      default: {
        const m = merge3(base[k], ours[k], theirs[k]);
        if (m.value !== undefined) out[k] = m.value;
      }
    }
  }
  if (Object.keys(decisionLists).length) out.decisions = decisionLists;
  const review = merge3(base.review, ours.review, theirs.review);
  let r: unknown = review.value;
  if (review.conflict) r = timeOf(theirs.review) > timeOf(ours.review) ? theirs.review : ours.review;
  if (disagreements.length) r = { ...obj(r), status: 'pending', queue: DISAGREEMENT_QUEUE };
  if (r !== undefined) out.review = r;
  return { value: out, disagreements };
}

/** The three-way merge of one record. */
export function mergeRecord(
  base: Rec | undefined,
  ours: Rec,
  theirs: Rec,
  fields: FieldMap = defaultFields,
): RecordMerge {
  const b = base ?? {};
  const keys = annotationKeys(fields);
  const out: Rec = {};
  const conflicts: string[] = [];
  const question = fields.question;
  const label = merge3(b[fields.label], ours[fields.label], theirs[fields.label]);
  let ann: { value: Rec; disagreements: string[] } | undefined;
  if (ours[fields.annotations] !== undefined || theirs[fields.annotations] !== undefined || label.conflict) {
    ann = mergeAnnotations(obj(b[fields.annotations]), obj(ours[fields.annotations]), obj(theirs[fields.annotations]), {
      ours: ours[fields.label],
      theirs: theirs[fields.label],
      question,
      labelConflict: label.conflict,
    });
  }
  const judgesChanged = !sameJson(ours[fields.judges], theirs[fields.judges]);
  for (const k of keysOf(ours, theirs, ann ? { [fields.annotations]: 1 } : {})) {
    if (k === fields.annotations) {
      if (ann) out[k] = ann.value;
      continue;
    }
    if (k === fields.label) {
      // two people decided the label differently: the label stays ours, with our decision
      const v = ann?.disagreements.includes(question) ? ours[k] : label.value;
      if (v !== undefined) out[k] = v;
      continue;
    }
    if (k === fields.judges) {
      const u = unite(b[k], ours[k], theirs[k], judgeKey);
      if (u) out[k] = u;
      continue;
    }
    if (k === fields.judge) {
      const m = merge3(b[k], ours[k], theirs[k]);
      if (m.value !== undefined) out[k] = m.value;
      continue;
    }
    const m = merge3(b[k], ours[k], theirs[k]);
    if (m.conflict) conflicts.push(k);
    if (m.value !== undefined) out[k] = m.value;
  }
  if (judgesChanged && Array.isArray(out[fields.judges])) {
    const list = (out[fields.judges] as unknown[]).flatMap((x) => {
      const j = Judge.safeParse(x);
      return j.success ? [j.data] : [];
    });
    const verdict = panelVerdict(list);
    if (verdict) out[fields.judge] = verdict;
  }
  const text = conflicts.filter((k) => !keys.has(k) || k === fields.rationale);
  return {
    value: out,
    ...(text.length ? { conflict: `${text.join(', ')} edited on both sides` } : {}),
    disagreements: ann?.disagreements ?? [],
  };
}

export interface MergeReport {
  /** Lines written (conflict markers included). */
  lines: number;
  /** Records merged from both sides (both changed them, without conflict). */
  merged: number;
  /** Records two people decided differently: both decisions kept, sent to the disagreement queue. */
  disagreements: { key: string; label: string; line: number; questions: string[] }[];
  /** Records in conflict markers. */
  conflicts: { key: string; label: string; line: number; reason: string }[];
}

export interface MergeOptions extends KeyOptions {
  /** Where the result goes (default: over `ours`, as git wants). */
  out?: string;
  /** The file's path in the repository, for the conflict markers (git's %P). */
  name?: string;
  /** Conflict marker length (git's %L, default 7). */
  markerSize?: number;
  signal?: AbortSignal;
}

type Item =
  | { ds: KeyIndex; index: number }
  | { json: Rec }
  | { conflict: string; key: string; label: string; ours?: number; theirs?: number };

/**
 * Merges `theirs` into `ours` with `base` their common ancestor (git's %O %A %B), writing the
 * result to `opts.out` (default `ours`) atomically. The report's `conflicts` are what git must be
 * told about (the driver exits 1 then).
 */
export async function mergeFiles(
  basePath: string,
  oursPath: string,
  theirsPath: string,
  opts: MergeOptions = {},
): Promise<MergeReport> {
  const fields = opts.fields ?? defaultFields;
  const opened: KeyIndex[] = [];
  try {
    const iO = await indexFile(basePath, opts, opts.signal);
    opened.push(iO);
    const iA = await indexFile(oursPath, opts, opts.signal);
    opened.push(iA);
    const iB = await indexFile(theirsPath, opts, opts.signal);
    opened.push(iB);
    const A = iA;
    const B = iB;
    const slots: (Item[] | undefined)[] = []; // sparse: slots[j + 1]: items after ours' line j (slots[0]: before the first)
    const place = (after: number, item: Item) => (slots[after + 1] ??= []).push(item);
    const report: MergeReport = { lines: 0, merged: 0, disagreements: [], conflicts: [] };
    const pendingDis: { item: Item; questions: string[]; key: string }[] = [];
    const usedB = new Uint8Array(iB.keys.length);
    for (let j = 0; j < iA.keys.length; j++) {
      const key = iA.keys[j]!;
      const o = iO.byKey.get(key);
      const t = iB.byKey.get(key);
      const label = keyLabel(key);
      if (t === undefined) {
        if (o === undefined) place(j, { ds: A, index: j });
        else if (!sameBytes(iO, o, iA, j))
          place(j, { conflict: 'changed by ours, removed by theirs', key, label, ours: j });
        continue; // else removed by theirs
      }
      usedB[t] = 1;
      place(j, resolve(key, label, o, j, t));
    }
    function resolve(key: string, label: string, o: number | undefined, a: number, t: number): Item {
      if (sameBytes(iA, a, iB, t)) return { ds: A, index: a };
      if (o !== undefined && sameBytes(iO, o, iA, a)) return { ds: B, index: t };
      if (o !== undefined && sameBytes(iO, o, iB, t)) return { ds: A, index: a };
      const va = A.value(a);
      const vb = B.value(t);
      const vo = o === undefined ? undefined : iO.value(o);
      if (!va || !vb || (o !== undefined && !vo))
        return { conflict: 'not a valid record on one side', key, label, ours: a, theirs: t };
      const m = mergeRecord(vo, va, vb, fields);
      if (m.conflict) return { conflict: m.conflict, key, label, ours: a, theirs: t };
      if (sameJson(m.value, va)) return { ds: A, index: a };
      if (sameJson(m.value, vb)) return { ds: B, index: t };
      report.merged++;
      const item: Item = { json: m.value };
      if (m.disagreements.length) pendingDis.push({ item, questions: m.disagreements, key });
      return item;
    }
    // theirs' records that ours does not have: added by theirs (placed after the record they follow), or removed by ours
    let prevInA = -1;
    for (let t = 0; t < iB.keys.length; t++) {
      const key = iB.keys[t]!;
      const inA = iA.byKey.get(key);
      if (usedB[t]) {
        if (inA !== undefined) prevInA = inA;
        continue;
      }
      const o = iO.byKey.get(key);
      if (o === undefined) place(prevInA, { ds: B, index: t });
      else if (!sameBytes(iO, o, iB, t))
        place(prevInA, { conflict: 'removed by ours, changed by theirs', key, label: keyLabel(key), theirs: t });
    }
    // write
    const target = opts.out ?? oursPath;
    const marker = Math.max(7, opts.markerSize ?? 7);
    const name = opts.name ? ` ${opts.name}` : '';
    const disItems = new Map(pendingDis.map((d) => [d.item, d]));
    let line = 0;
    const lastSlot = slots.filter(Boolean).at(-1);
    const lastItem = lastSlot?.at(-1);
    const chunks = function* (): Generator<Buffer | string> {
      for (const slot of slots) {
        if (!slot) continue;
        for (const it of slot) {
          if ('ds' in it) {
            yield it.ds.bytes(it.index);
            // a line keeps its ending; one without (the last line of its file) gets one unless it ends this file too
            if (it.ds.eol(it.index) || it !== lastItem) yield '\n';
            line++;
          } else if ('json' in it) {
            line++;
            const d = disItems.get(it);
            if (d) report.disagreements.push({ key: d.key, label: keyLabel(d.key), line, questions: d.questions });
            yield `${JSON.stringify(it.json)}\n`;
          } else {
            line++;
            report.conflicts.push({ key: it.key, label: it.label, line, reason: it.conflict });
            yield `${'<'.repeat(marker)} ours${name} (${it.label}: ${it.conflict})\n`;
            if (it.ours !== undefined) {
              yield A.bytes(it.ours);
              yield '\n';
              line++;
            }
            yield `${'='.repeat(marker)}\n`;
            line++;
            if (it.theirs !== undefined) {
              yield B.bytes(it.theirs);
              yield '\n';
              line++;
            }
            yield `${'>'.repeat(marker)} theirs${name}\n`;
            line++;
          }
        }
      }
    };
    await writeAtomic(target, chunks(), opts.signal, async () => {
      // closed before the rename (Windows cannot rename over an open file)
      for (const x of opened.splice(0)) await x.close();
    });
    report.lines = line;
    return report;
  } finally {
    for (const x of opened) await x.close();
  }
}

/** Streams chunks to a temp file beside `target`, fsyncs, renames it over `target`, fsyncs the folder. */
async function writeAtomic(
  target: string,
  chunks: Iterable<Buffer | string>,
  signal?: AbortSignal,
  beforeRename?: () => Promise<void>,
): Promise<void> {
  const tmp = `${target}.${process.pid}.merge.tmp`;
  const ws = createWriteStream(tmp);
  try {
    let n = 0;
    for (const c of chunks) {
      if ((n++ & 4095) === 0 && signal?.aborted) throw Object.assign(new Error('interrupted'), { name: 'AbortError' });
      if (!ws.write(c)) await once(ws, 'drain');
    }
    ws.end();
    await once(ws, 'finish');
    const fh = await open(tmp, 'r+');
    await fh.sync();
    await fh.close();
    await beforeRename?.();
    await rename(tmp, target);
    const dir = await open(dirname(target), 'r');
    await dir.sync().catch(() => undefined);
    await dir.close();
  } catch (e) {
    ws.destroy();
    await rm(tmp, { force: true });
    throw e;
  }
}
