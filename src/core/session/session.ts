// The curation editor's session over a dataset, pure: the record, row and outline payloads the
// page shows, the label set, the paging of a query's matches, and what a person's edit does to a
// line. One model for every face: the VS Code custom editor (over the store, with undo, backups and
// the watcher around it), the text editor's features (the label set) and the dev page (over lines
// in memory). It never imports the faces or node's I/O: the lines and the match lists come in.
import { recordAnnotation } from '../query';
import type { LineChange } from '../line-change';
import { applyAnnotationEdit, annotationEditLabel } from '../annotate-edits';
import { defaultFields, originOf } from '../schema/annotation';
import { getPath } from '../filter/fields';
import { isPreference, readPreference } from '../schema/preference';
import type { Question } from '../questions/schema';
import { applyDeclaredReview, applyQuestionEdit, questionViews } from './questions';
import type {
  AnnotationView,
  DocumentInfo,
  EditRequest,
  MatchProgress,
  OriginView,
  RecordPayload,
  RowPayload,
  SearchQuery,
} from './views';

/** A line as the session reads it (the store's LineView has these). */
export interface SessionLine {
  readonly raw: string;
  readonly value?: Record<string, unknown>;
  readonly invalid?: { reason: string };
  readonly lossy?: { reason: string };
  readonly edited: boolean;
}

/** The lines of a dataset, editable; `E` is what an edit returns (the store's invertible Edit). */
export interface SessionLines<E> {
  readonly lineCount: number;
  /** False while the file is still being indexed (lineCount grows). */
  readonly indexed: boolean;
  line(index: number): SessionLine;
  /** A line's new content: a record, or `{ raw }` text kept as typed. */
  replaceLine(index: number, value: unknown): E;
  setField(index: number, path: (string | number)[], value: unknown): E;
}

/** The matches of one query, found so far (the core's MatchIndex, or a list scanned at once: ScanMatches). */
export interface Matches {
  readonly count: number;
  readonly done: boolean;
  at(k: number): number | undefined;
  slice(start: number, count: number): number[];
  lowerBound(index: number): number;
  found(from: number, count: number): Promise<void>;
  scannedPast(index: number): Promise<void>;
  whenDone(): Promise<void>;
  progress(): MatchProgress;
}

export interface SessionHost {
  fileName(): string;
  dirty(): boolean;
  /** The label set the user configured (empty: inferred from the file). */
  configuredLabels(): string[];
  /** When judges disagree: the share of the scale their scores differ by. */
  disagreement(): number;
  /** The matches of a query (kept up to date through edits by the host). */
  matches(query: SearchQuery): Matches;
  /**
   * The dataset's declared questions (.curator/questions.json; none: the single label only). Throws
   * when the declaration cannot be read: the outline says why, records show no questions.
   */
  questions?(): Question[];
}

export interface SearchParams {
  query: SearchQuery;
  from: number;
  direction: 'forward' | 'backward';
  limit: number;
}

/** Records the label set is inferred from. */
const LABEL_RECORDS = 2000;
/** Bytes of records a quick label set is taken from (the page's embedded init). */
export const QUICK_LABEL_BYTES = 64 * 1024;
/** Records the list mode's columns are taken from. */
const COLUMN_RECORDS = 50;

/** What one line gives the label set: its label and the model's label suggestions. */
function lineLabels(line: { value?: unknown }): string[] {
  if (!isObject(line.value)) return [];
  const ann = recordAnnotation(line.value);
  const out: string[] = [];
  if (ann.label) out.push(ann.label);
  for (const s of ann.suggestions) if (s.question === 'label' && typeof s.value === 'string') out.push(s.value);
  return out;
}

/**
 * The labels seen in the first records (LABEL_RECORDS, or up to `maxBytes` of them): their current
 * labels and the model's label suggestions, sorted.
 */
export function inferLabels(
  count: number,
  lineAt: (i: number) => { raw: string; value?: unknown },
  maxBytes?: number,
): string[] {
  const seen = new Set<string>();
  let bytes = 0;
  for (let i = 0, n = Math.min(count, LABEL_RECORDS); i < n && !(maxBytes !== undefined && bytes >= maxBytes); i++) {
    const line = lineAt(i);
    bytes += line.raw.length;
    for (const l of lineLabels(line)) seen.add(l);
  }
  return [...seen].sort();
}

/**
 * The label set of the first LABEL_RECORDS records (inferLabels), kept up to date line by line: a
 * job writing labels into those records changes a few of them between two looks, and the set is
 * asked for every time the page is told of a change (every 200 ms while a job runs). Each record's
 * labels are counted; a replaced line is read again, the others are not.
 */
export class LabelTally {
  /** Each of the first records' labels (at most LABEL_RECORDS lines). */
  private readonly byLine: string[][] = [];
  private readonly counts = new Map<string, number>();
  /** Lines replaced since the last look. */
  private readonly stale = new Set<number>();
  private sorted: string[] | undefined;

  constructor(count: number, lineAt: (i: number) => { value?: unknown }) {
    for (let i = 0, n = Math.min(count, LABEL_RECORDS); i < n; i++) this.add(i, lineLabels(lineAt(i)));
  }

  /**
   * Whether the tally can follow these changes (a replaced line is read again at the next look); a
   * line inserted or deleted among the first records moves the others in or out: start again.
   */
  follow(changes: readonly LineChange[]): boolean {
    for (const c of changes) {
      if (c.index >= LABEL_RECORDS) continue;
      if (c.type !== 'replace' || c.index >= this.byLine.length) return false;
      this.stale.add(c.index);
    }
    return true;
  }

  labels(lineAt: (i: number) => { value?: unknown }): string[] {
    for (const i of this.stale) {
      for (const l of this.byLine[i] ?? []) {
        const n = (this.counts.get(l) ?? 0) - 1;
        if (n > 0) this.counts.set(l, n);
        else this.counts.delete(l);
      }
      this.add(i, lineLabels(lineAt(i)));
    }
    if (this.stale.size > 0) this.sorted = undefined;
    this.stale.clear();
    return (this.sorted ??= [...this.counts.keys()].sort());
  }

  private add(i: number, labels: string[]): void {
    this.byLine[i] = labels;
    for (const l of labels) this.counts.set(l, (this.counts.get(l) ?? 0) + 1);
  }
}

export class EditorSession<E> {
  private tally: LabelTally | undefined;

  constructor(
    private readonly lines: () => SessionLines<E>,
    private readonly host: SessionHost,
  ) {}

  /** The document's outline. `quick`: the labels of the first records only (QUICK_LABEL_BYTES). */
  info(opts: { quick?: boolean } = {}): DocumentInfo {
    const ds = this.lines();
    // The labels and the columns look at the same first records: each is read and parsed once
    // (the editor's page waits for this on open).
    const first = new Map<number, SessionLine>();
    const lineAt = (i: number): SessionLine => {
      let line = first.get(i);
      if (!line) first.set(i, (line = ds.line(i)));
      return line;
    };
    return {
      fileName: this.host.fileName(),
      lineCount: ds.lineCount,
      indexed: ds.indexed,
      labels: this.labels(opts.quick ? QUICK_LABEL_BYTES : undefined, lineAt),
      dirty: this.host.dirty(),
      columns: this.columns(lineAt),
      ...(this.questionsError() ? { questionsError: this.questionsError() } : {}),
    };
  }

  /** The declared questions ([] when none, or when the declaration cannot be read: questionsError says why). */
  questions(): Question[] {
    try {
      return this.host.questions?.() ?? [];
    } catch {
      return [];
    }
  }

  private questionsError(): string | undefined {
    try {
      this.host.questions?.();
      return undefined;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }

  record(index: number): RecordPayload {
    this.checkIndex(index);
    const line = this.lines().line(index);
    const value = isObject(line.value) ? line.value : undefined;
    const annotation: AnnotationView | undefined = value
      ? recordAnnotation(value, { disagreement: this.host.disagreement() })
      : undefined;
    const preference = value && isPreference(value) ? readPreference(value) : undefined;
    const origin = value ? originView(value) : undefined;
    const questions = this.questions();
    return {
      index,
      lineNumber: index + 1,
      raw: line.raw,
      value,
      invalid: line.invalid,
      lossy: line.lossy,
      annotation,
      annotationFields: Object.values(defaultFields),
      ...(preference ? { preference } : {}),
      ...(origin ? { origin } : {}),
      ...(value && questions.length ? { questions: questionViews(value, questions) } : {}),
      edited: line.edited,
    };
  }

  rows(start: number, count: number, columns: string[]): RowPayload[] {
    const out: RowPayload[] = [];
    for (let i = start, end = Math.min(this.lines().lineCount, start + count); i < end; i++)
      out.push(this.row(i, columns));
    return out;
  }

  private row(i: number, columns: string[]): RowPayload {
    const line = this.lines().line(i);
    const value = isObject(line.value) ? line.value : undefined;
    const ann = value ? recordAnnotation(value) : undefined;
    return {
      index: i,
      lineNumber: i + 1,
      cells: columns.map((c) => cellText(value ? getPath(value, c) : c === 'raw' ? line.raw : undefined)),
      label: ann?.label,
      score: ann?.judge?.score,
      reviewStatus: ann?.reviewStatus,
      invalid: !!line.invalid,
    };
  }

  /**
   * Matches from `from` in `direction`, wrapping around the file, at most `limit`; `total` when
   * the whole file is searched. Waits only as far as the answer needs.
   */
  async search(p: SearchParams): Promise<{ matches: number[]; total?: number }> {
    const n = this.lines().lineCount;
    if (n === 0) return { matches: [], total: 0 };
    const m = this.host.matches(p.query);
    const from = Math.min(p.from, n - 1);
    let out: number[];
    if (p.direction === 'forward') {
      await m.found(from, p.limit);
      out = m.slice(m.lowerBound(from), p.limit);
      if (out.length < p.limit) {
        await m.whenDone();
        out.push(...m.slice(0, Math.min(p.limit - out.length, m.lowerBound(from))));
      }
    } else {
      await m.scannedPast(from);
      const found: number[] = [];
      const down = (hi: number, stop: number) => {
        for (let k = hi - 1; k >= stop && found.length < p.limit; k--) found.push(m.at(k)!);
      };
      down(m.lowerBound(from + 1), 0);
      if (found.length < p.limit) {
        await m.whenDone();
        down(m.count, m.lowerBound(from + 1));
      }
      out = found;
    }
    return m.done ? { matches: out, total: m.count } : { matches: out };
  }

  /** Rows of the matches [start, start + count) found so far, and how far the search is. */
  matchRows(p: {
    query: SearchQuery;
    start: number;
    count: number;
    columns: string[];
  }): MatchProgress & { rows: RowPayload[] } {
    const m = this.host.matches(p.query);
    return { rows: m.slice(p.start, p.count).map((i) => this.row(i, p.columns)), ...m.progress() };
  }

  /** The position among the matches of the first match at or after record `index`. */
  async matchPosition(p: {
    query: SearchQuery;
    index: number;
    wait: boolean;
  }): Promise<MatchProgress & { position: number; exact: boolean }> {
    const m = this.host.matches(p.query);
    if (p.wait) await m.found(p.index, 1);
    const position = m.lowerBound(p.index);
    return { position, exact: m.at(position) === p.index, ...m.progress() };
  }

  /**
   * Applies a person's edit to the lines: the edit made and the undo stack's name for it. Structured
   * edits of an invalid or lossy line are refused (its raw text can still be replaced).
   */
  /** `user`: who decides (the annotator; docs/git.md), kept with the decision. */
  edit(req: EditRequest, now = new Date(), user?: string): { edit: E; label: string } {
    this.checkIndex(req.index);
    const ds = this.lines();
    if (req.op === 'replaceRaw')
      return { edit: ds.replaceLine(req.index, { raw: req.raw }), label: `Edit line ${req.index + 1}` };
    const line = ds.line(req.index);
    if (line.invalid)
      throw new Error(
        `Line ${req.index + 1} is not a valid record (${line.invalid.reason}); edit it as raw JSON instead.`,
      );
    if (line.lossy)
      throw new Error(
        `Line ${req.index + 1} cannot be edited field by field without losing information (${line.lossy.reason}); edit it as raw JSON instead.`,
      );
    if (req.op === 'setField')
      return { edit: ds.setField(req.index, req.path, req.value), label: `Set ${req.path.join('.')}` };
    const record = line.value as Record<string, unknown>;
    const when = { time: now.toISOString(), ...(user ? { user } : {}) };
    if (
      req.op === 'answer' ||
      req.op === 'clearAnswer' ||
      req.op === 'toggleLabel' ||
      req.op === 'moveCandidate' ||
      req.op === 'addSpan' ||
      req.op === 'removeSpan'
    ) {
      const done = applyQuestionEdit(record, this.questions(), req, when);
      return { edit: ds.replaceLine(req.index, done.record), label: done.label };
    }
    const declared = applyDeclaredReview(record, this.questions(), req, when);
    if (declared) return { edit: ds.replaceLine(req.index, declared.record), label: declared.label };
    return {
      edit: ds.replaceLine(req.index, applyAnnotationEdit(line.value as Record<string, unknown>, req, now, user)),
      label: annotationEditLabel(req),
    };
  }

  /**
   * The label set: the configured one, else the labels seen in the file's first records (or in its
   * first `maxBytes` of records: a quick set). Kept once the file is indexed, and kept up to date
   * through the edits `changed()` is told of (LabelTally).
   */
  labels(maxBytes?: number, lineAt?: (i: number) => SessionLine): string[] {
    const configured = this.host.configuredLabels();
    if (configured.length > 0) return configured;
    const ds = this.lines();
    const at = lineAt ?? ((i: number) => ds.line(i));
    if (this.tally) return this.tally.labels(at);
    // Before the index is complete, the first records are all there is to see.
    if (maxBytes !== undefined || !ds.indexed) return inferLabels(ds.lineCount, at, maxBytes);
    this.tally = new LabelTally(ds.lineCount, at);
    return this.tally.labels(at);
  }

  /**
   * The content changed: what is derived from it is worked out again. `changes`: the lines edited,
   * when known (the label set then reads only those again); without them, everything.
   */
  changed(changes?: readonly LineChange[]): void {
    if (!changes || !this.tally?.follow(changes)) this.tally = undefined;
  }

  private columns(lineAt: (i: number) => SessionLine): string[] {
    const ds = this.lines();
    const keys = new Set<string>();
    for (let i = 0, n = Math.min(ds.lineCount, COLUMN_RECORDS); i < n; i++) {
      const v = lineAt(i).value;
      if (isObject(v)) for (const k of Object.keys(v)) keys.add(k);
    }
    return [...keys];
  }

  private checkIndex(index: number): void {
    const n = this.lines().lineCount;
    if (index >= n) throw new RangeError(`Line ${index + 1} does not exist: the file has ${n} line(s).`);
  }
}

/** A query's matches found by one synchronous scan (lines in memory: the dev page, tests). */
export class ScanMatches implements Matches {
  private readonly list: number[] = [];
  private readonly lineCount: number;

  constructor(lineCount: number, test: (i: number) => boolean) {
    this.lineCount = lineCount;
    for (let i = 0; i < lineCount; i++) if (test(i)) this.list.push(i);
  }

  get count(): number {
    return this.list.length;
  }
  get done(): boolean {
    return true;
  }
  at(k: number): number | undefined {
    return this.list[k];
  }
  slice(start: number, count: number): number[] {
    return this.list.slice(start, start + count);
  }
  lowerBound(index: number): number {
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.list[mid]! < index) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  async found(): Promise<void> {}
  async scannedPast(): Promise<void> {}
  async whenDone(): Promise<void> {}
  progress(): MatchProgress {
    return { count: this.list.length, scanned: this.lineCount, lineCount: this.lineCount, done: true };
  }
}

/** The record's origin for the annotation panel, if it has a valid one. */
function originView(value: Record<string, unknown>): OriginView | undefined {
  const o = originOf(value);
  if (!o) return undefined;
  const view: OriginView = { type: o.type };
  if (o.task) view.task = o.task;
  if (o.model) view.model = o.model;
  if (o.models?.length) view.models = o.models;
  if (o.judge_model) view.judgeModel = o.judge_model;
  if (o.prompt_hash) view.promptHash = o.prompt_hash;
  if (o.round !== undefined) view.round = o.round;
  if (o.persona) view.persona = o.persona;
  if (o.evolution) view.evolution = o.evolution.op;
  if (typeof o.time === 'string') view.time = o.time;
  return view;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function cellText(v: unknown): string {
  if (v === undefined) return '';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  const flat = s.replace(/\s+/g, ' ');
  return flat.length > 300 ? `${flat.slice(0, 299)}…` : flat;
}
