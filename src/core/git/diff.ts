// The semantic diff of two versions of a JSONL dataset (docs/git.md): per record, keyed by its id
// (or its content when it has none), never by line. What changed in each record: label flips,
// people's decisions (by whom, when), judges and suggestions, review status, text edits; records
// added and removed. Moves are not changes. Memory: a key and a 16-byte hash per line; only the
// records whose bytes differ are parsed again to say what changed.
import type { JsonlDataset } from '../store';
import { defaultFields, type FieldMap } from '../schema/annotation';
import {
  annotationKeys,
  indexDataset,
  indexFile,
  isObj,
  keyLabel,
  sameBytes,
  sameJson,
  type KeyIndex,
  type KeyOptions,
} from './records';

type Rec = Record<string, unknown>;

/** One thing that changed in a record. */
export type FieldChange =
  | { kind: 'text'; fields: string[] }
  | { kind: 'label'; before?: unknown; after?: unknown }
  | { kind: 'rationale'; before?: unknown; after?: unknown }
  | {
      kind: 'decision';
      question: string;
      action: 'added' | 'changed' | 'removed';
      before?: unknown;
      after?: unknown;
      user?: string;
      time?: string;
      status?: string;
    }
  | { kind: 'judge'; action: 'added' | 'changed' | 'removed'; model?: string; before?: number; after?: number }
  | {
      kind: 'suggestion';
      question: string;
      action: 'added' | 'changed' | 'removed';
      agent?: string;
      before?: unknown;
      after?: unknown;
    }
  | { kind: 'review'; before?: string; after?: string; queue?: string }
  | { kind: 'annotations'; keys: string[] };

export type ChangeKind = FieldChange['kind'];

export interface RecordChange {
  /** The record's key (`id:17`, `content:<hash>`, `line:<hash>`). */
  key: string;
  /** A short form for people: `id 17`, `record without id`, `invalid line`. */
  label: string;
  change: 'added' | 'removed' | 'changed';
  /** 1-based line in the old file (removed, changed). */
  oldLine?: number;
  /** 1-based line in the new file (added, changed). */
  newLine?: number;
  /** What changed (changed records). */
  changes: FieldChange[];
}

export interface DiffSummary {
  added: number;
  removed: number;
  changed: number;
  unchanged: number;
  /** Records at another position with the same bytes (not changes). */
  moved: number;
  /** Changed records per kind of change (a record with a label flip and a decision counts in both). */
  byKind: Partial<Record<ChangeKind, number>>;
}

export interface DiffResult {
  summary: DiffSummary;
  /** In the new file's order, then the removed records in the old file's order. */
  records: RecordChange[];
}

export interface DiffOptions extends KeyOptions {
  signal?: AbortSignal;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function decisions(ann: Rec): Rec {
  return isObj(ann.human) ? ann.human : {};
}

function judgeKey(j: Rec): string {
  const p = isObj(j.provenance) ? j.provenance : {};
  return `${str(j.model) ?? str(p.model) ?? ''}\u0000${str(p.prompt_hash) ?? ''}`;
}

function suggestionKey(s: Rec, i: number): string {
  const p = isObj(s.provenance) ? s.provenance : {};
  const agent = str(s.agent);
  return agent === undefined ? `#${i}` : `${agent}\u0000${str(p.task) ?? 'label'}`;
}

function byKey(list: unknown, key: (x: Rec, i: number) => string): Map<string, Rec> {
  const out = new Map<string, Rec>();
  if (Array.isArray(list)) list.forEach((x, i) => isObj(x) && out.set(key(x, i), x));
  return out;
}

/** A person's decision on `question` added, changed or removed (`d0` before, `d1` after; by whom, when, its status). */
function decisionChange(question: string, d0: Rec | undefined, d1: Rec | undefined): FieldChange {
  const who = d1 ?? d0 ?? {};
  return {
    kind: 'decision',
    question,
    action: !d0 ? 'added' : !d1 ? 'removed' : 'changed',
    ...(d0 ? { before: d0.value } : {}),
    ...(d1 ? { after: d1.value } : {}),
    ...(str(who.user) ? { user: str(who.user) } : {}),
    ...(str(who.time) ? { time: str(who.time) } : {}),
    ...(str(who.status) ? { status: str(who.status) } : {}),
  };
}

/** What changed between two versions of one record. Empty when they are equal as JSON. */
export function recordChanges(before: Rec, after: Rec, fields: FieldMap = defaultFields): FieldChange[] {
  const out: FieldChange[] = [];
  const keys = annotationKeys(fields);
  const text: string[] = [];
  for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (!keys.has(k) && !sameJson(before[k], after[k])) text.push(k);
  }
  if (text.length) out.push({ kind: 'text', fields: text });
  if (!sameJson(before[fields.label], after[fields.label]))
    out.push({ kind: 'label', before: before[fields.label], after: after[fields.label] });
  if (!sameJson(before[fields.rationale], after[fields.rationale]))
    out.push({ kind: 'rationale', before: before[fields.rationale], after: after[fields.rationale] });

  const a0 = isObj(before[fields.annotations]) ? (before[fields.annotations] as Rec) : {};
  const a1 = isObj(after[fields.annotations]) ? (after[fields.annotations] as Rec) : {};
  const h0 = decisions(a0);
  const h1 = decisions(a1);
  for (const q of new Set([...Object.keys(h0), ...Object.keys(h1)])) {
    const d0 = isObj(h0[q]) ? h0[q] : undefined;
    const d1 = isObj(h1[q]) ? h1[q] : undefined;
    if (sameJson(d0, d1)) continue;
    out.push(decisionChange(q, d0, d1));
  }
  // Several people's decisions (annotations.decisions.<question>: one per person).
  const m0 = isObj(a0.decisions) ? a0.decisions : {};
  const m1 = isObj(a1.decisions) ? a1.decisions : {};
  for (const q of new Set([...Object.keys(m0), ...Object.keys(m1)])) {
    const userOf = (x: Rec, i: number) => str(x.user) ?? `#${i}`;
    const l0 = byKey(m0[q], userOf);
    const l1 = byKey(m1[q], userOf);
    for (const u of new Set([...l0.keys(), ...l1.keys()])) {
      const d0 = l0.get(u);
      const d1 = l1.get(u);
      if (sameJson(d0, d1)) continue;
      // the same decision also in annotations.human is reported once
      if (
        out.some(
          (c) =>
            c.kind === 'decision' &&
            c.question === q &&
            c.user === str((d1 ?? d0)?.user) &&
            sameJson(c.after, d1?.value),
        )
      )
        continue;
      out.push(decisionChange(q, d0, d1));
    }
  }

  const j0 = byKey(before[fields.judges], judgeKey);
  const j1 = byKey(after[fields.judges], judgeKey);
  let judgesChanged = false;
  for (const k of new Set([...j0.keys(), ...j1.keys()])) {
    const x0 = j0.get(k);
    const x1 = j1.get(k);
    if (sameJson(x0, x1)) continue;
    judgesChanged = true;
    const j = x1 ?? x0 ?? {};
    const model = str(j.model) ?? (isObj(j.provenance) ? str(j.provenance.model) : undefined);
    const score = (x?: Rec) => (x && typeof x.score === 'number' ? x.score : undefined);
    out.push({
      kind: 'judge',
      action: !x0 ? 'added' : !x1 ? 'removed' : 'changed',
      ...(model ? { model } : {}),
      ...(score(x0) !== undefined ? { before: score(x0) } : {}),
      ...(score(x1) !== undefined ? { after: score(x1) } : {}),
    });
  }
  if (!judgesChanged && !sameJson(before[fields.judge], after[fields.judge])) {
    const s = (v: unknown) => (isObj(v) && typeof v.score === 'number' ? v.score : undefined);
    const b = s(before[fields.judge]);
    const a = s(after[fields.judge]);
    const j = isObj(after[fields.judge])
      ? (after[fields.judge] as Rec)
      : isObj(before[fields.judge])
        ? (before[fields.judge] as Rec)
        : {};
    out.push({
      kind: 'judge',
      action: before[fields.judge] === undefined ? 'added' : after[fields.judge] === undefined ? 'removed' : 'changed',
      ...(str(j.model) ? { model: str(j.model) } : {}),
      ...(b !== undefined ? { before: b } : {}),
      ...(a !== undefined ? { after: a } : {}),
    });
  }

  const s0 = isObj(a0.suggestions) ? a0.suggestions : {};
  const s1 = isObj(a1.suggestions) ? a1.suggestions : {};
  for (const q of new Set([...Object.keys(s0), ...Object.keys(s1)])) {
    const l0 = byKey(s0[q], suggestionKey);
    const l1 = byKey(s1[q], suggestionKey);
    for (const k of new Set([...l0.keys(), ...l1.keys()])) {
      const x0 = l0.get(k);
      const x1 = l1.get(k);
      if (sameJson(x0, x1)) continue;
      const agent = str((x1 ?? x0)?.agent);
      out.push({
        kind: 'suggestion',
        question: q,
        action: !x0 ? 'added' : !x1 ? 'removed' : 'changed',
        ...(agent ? { agent } : {}),
        ...(x0 ? { before: x0.value } : {}),
        ...(x1 ? { after: x1.value } : {}),
      });
    }
  }

  const r0 = isObj(a0.review) ? a0.review : {};
  const r1 = isObj(a1.review) ? a1.review : {};
  if (r0.status !== r1.status || r0.queue !== r1.queue) {
    out.push({
      kind: 'review',
      ...(str(r0.status) ? { before: str(r0.status) } : {}),
      ...(str(r1.status) ? { after: str(r1.status) } : {}),
      ...(str(r1.queue) ? { queue: str(r1.queue) } : {}),
    });
  }
  const known = new Set(['human', 'decisions', 'suggestions', 'review']);
  const other: string[] = [];
  for (const k of new Set([...Object.keys(a0), ...Object.keys(a1)]))
    if (!known.has(k) && !sameJson(a0[k], a1[k])) other.push(k);
  if (isObj(a0.review) && isObj(a1.review) && r0.status === r1.status && r0.queue === r1.queue && !sameJson(r0, r1))
    other.push('review');
  if (other.length) out.push({ kind: 'annotations', keys: other });
  return out;
}

/** The semantic diff of two indexed versions. Records pair by key; a record whose bytes are the same on both sides is unchanged wherever it moved. */
export async function diffIndexes(a: KeyIndex, b: KeyIndex, opts: DiffOptions = {}): Promise<DiffResult> {
  const fields = opts.fields ?? defaultFields;
  const summary: DiffSummary = { added: 0, removed: 0, changed: 0, unchanged: 0, moved: 0, byKind: {} };
  const records: RecordChange[] = [];
  const matched = new Uint8Array(a.keys.length);
  // moves: the order of the matched records in the old file, walked in the new file's order
  let lastOld = -1;
  for (let j = 0; j < b.keys.length; j++) {
    if ((j & 0xffff) === 0xffff) {
      if (opts.signal?.aborted) throw Object.assign(new Error('interrupted'), { name: 'AbortError' });
      await new Promise((r) => setImmediate(r));
    }
    const key = b.keys[j]!;
    const i = a.byKey.get(key);
    if (i === undefined) {
      summary.added++;
      records.push({ key, label: keyLabel(key), change: 'added', newLine: j + 1, changes: [] });
      continue;
    }
    matched[i] = 1;
    if (i < lastOld) summary.moved++;
    else lastOld = i;
    if (sameBytes(a, i, b, j)) {
      summary.unchanged++;
      continue;
    }
    const before = a.value(i);
    const after = b.value(j);
    const changes = before && after ? recordChanges(before, after, fields) : [];
    if (changes.length === 0) {
      summary.unchanged++; // the same record written another way (spacing, key order, line ending)
      continue;
    }
    summary.changed++;
    for (const k of new Set(changes.map((c) => c.kind))) summary.byKind[k] = (summary.byKind[k] ?? 0) + 1;
    records.push({ key, label: keyLabel(key), change: 'changed', oldLine: i + 1, newLine: j + 1, changes });
  }
  for (let i = 0; i < a.keys.length; i++) {
    if (matched[i]) continue;
    summary.removed++;
    records.push({ key: a.keys[i]!, label: keyLabel(a.keys[i]!), change: 'removed', oldLine: i + 1, changes: [] });
  }
  return { summary, records };
}

/** The semantic diff of two open datasets (as they are now, unsaved edits included). */
export async function diffDatasets(
  oldDs: JsonlDataset,
  newDs: JsonlDataset,
  opts: DiffOptions = {},
): Promise<DiffResult> {
  return diffOpened(
    () => indexDataset(oldDs, opts, opts.signal),
    () => indexDataset(newDs, opts, opts.signal),
    opts,
  );
}

/** The semantic diff of two files. */
export async function diffFiles(oldPath: string, newPath: string, opts: DiffOptions = {}): Promise<DiffResult> {
  return diffOpened(
    () => indexFile(oldPath, opts, opts.signal),
    () => indexFile(newPath, opts, opts.signal),
    opts,
  );
}

/** The diff of the two indexes made by `indexOld` and then `indexNew`; both are closed however it ends. */
async function diffOpened(
  indexOld: () => Promise<KeyIndex>,
  indexNew: () => Promise<KeyIndex>,
  opts: DiffOptions,
): Promise<DiffResult> {
  const a = await indexOld();
  try {
    const b = await indexNew();
    try {
      return await diffIndexes(a, b, opts);
    } finally {
      await b.close();
    }
  } finally {
    await a.close();
  }
}

const show = (v: unknown): string => (v === undefined ? '(none)' : typeof v === 'string' ? v : JSON.stringify(v));

/** One change in words: `label positive -> negative`, `decision label by maria: negative`. */
export function describeChange(c: FieldChange): string {
  switch (c.kind) {
    case 'text':
      return `text edited (${c.fields.join(', ')})`;
    case 'label':
      return `label ${show(c.before)} -> ${show(c.after)}`;
    case 'rationale':
      return c.before === undefined
        ? 'rationale added'
        : c.after === undefined
          ? 'rationale removed'
          : 'rationale edited';
    case 'decision': {
      const who = `${c.user ? ` by ${c.user}` : ''}${c.time ? ` at ${c.time}` : ''}`;
      const what =
        c.action === 'added'
          ? show(c.after)
          : c.action === 'removed'
            ? `removed (was ${show(c.before)})`
            : `${show(c.before)} -> ${show(c.after)}`;
      return `decision ${c.question}${who}: ${what}${c.status && c.status !== 'submitted' ? ` (${c.status})` : ''}`;
    }
    case 'judge':
      return `judge${c.model ? ` ${c.model}` : ''} ${c.action}${c.after !== undefined || c.before !== undefined ? `: ${c.action === 'changed' ? `${show(c.before)} -> ${show(c.after)}` : show(c.after ?? c.before)}` : ''}`;
    case 'suggestion':
      return `suggestion ${c.question}${c.agent ? ` from ${c.agent}` : ''} ${c.action}: ${c.action === 'changed' ? `${show(c.before)} -> ${show(c.after)}` : show(c.after ?? c.before)}`;
    case 'review':
      return `review ${show(c.before)} -> ${show(c.after)}${c.queue ? ` (queue ${c.queue})` : ''}`;
    case 'annotations':
      return `annotations.${c.keys.join(', annotations.')} changed`;
  }
}

/** One record's change in one line of text. */
export function describeRecord(r: RecordChange): string {
  if (r.change === 'added') return `+ ${r.label} (new line ${r.newLine}): added`;
  if (r.change === 'removed') return `- ${r.label} (old line ${r.oldLine}): removed`;
  const where = r.oldLine === r.newLine ? `line ${r.newLine}` : `line ${r.oldLine} -> ${r.newLine}`;
  return `~ ${r.label} (${where}): ${r.changes.map(describeChange).join('; ')}`;
}
