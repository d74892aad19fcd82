// Field access shared by the filters, the metrics and the exports: dotted paths, the text of a
// field, and a small, tolerant reader of the annotation layout (wrong types are treated as absent;
// the layout and its rules are src/core/schema/annotation.ts, whose panel rule this reuses).
import { currentPanel } from '../schema/annotation';

/** One line of a dataset, as the store (or the local JSONL reader in ./source.ts) gives it. */
export interface Line {
  /** 0-based logical index. */
  index: number;
  /** The parsed record, when the line is a valid JSON object. */
  value?: Record<string, unknown>;
  /** Why the line is not a valid record. */
  invalid?: { reason: string };
  /** The line's text without its terminator. */
  raw: string;
  /**
   * The line's exact bytes, when `raw` does not hold them (invalid UTF-8 decodes to U+FFFD): the
   * writers of kept lines (`filter --out`, `split`) copy these, never `raw`.
   */
  bytes?: Uint8Array;
}

/** An edit of one field that the caller applies through the store (all of them as one undoable edit). */
export interface FieldEdit {
  index: number;
  /** Keys and array indices, as in the protocol's `setField`. */
  path: (string | number)[];
  value: unknown;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Splits a dotted path (`judge.score`, `messages.0.content`) into keys; numeric segments stay strings. */
export function splitPath(path: string): string[] {
  return path.split('.');
}

/** The value at a dotted path, or undefined. Numeric segments index arrays. */
export function getPath(root: unknown, path: string | readonly string[]): unknown {
  const keys = typeof path === 'string' ? splitPath(path) : path;
  let cur: unknown = root;
  for (const k of keys) {
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(k)) return undefined;
      cur = cur[Number(k)];
    } else if (isObject(cur)) {
      if (!Object.prototype.hasOwnProperty.call(cur, k)) return undefined;
      cur = cur[k];
    } else {
      return undefined;
    }
  }
  return cur;
}

/**
 * The text of a field value: a string as is; a number or boolean as a string; an array (e.g. chat
 * `messages`) as the texts of its items joined by "\n"; an object by its `content`, `value` or
 * `text` (chat message, ShareGPT turn), else its JSON. Missing/null: undefined.
 */
export function textOf(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) {
    const parts: string[] = [];
    for (const item of v) {
      const t = textOf(item);
      if (t !== undefined) parts.push(t);
    }
    return parts.join('\n');
  }
  if (isObject(v)) {
    for (const k of ['content', 'value', 'text']) {
      if (k in v) return textOf(v[k]);
    }
    return JSON.stringify(v);
  }
  return undefined;
}

export interface Suggestion {
  value: unknown;
  /** Confidence 0..1, when given. */
  score?: number;
  agent?: string;
  type?: string;
  rationale?: string;
  provenance?: Record<string, unknown>;
}

export interface HumanResponse {
  value: unknown;
  user?: string;
  status?: string;
  time?: string;
}

export interface JudgeScore {
  score: number;
  model?: string;
  scale?: [number, number];
  reasons?: string;
  criteria?: Record<string, number>;
  /** provenance.prompt_hash and provenance.time: which panel the verdict belongs to. */
  promptHash?: string;
  time?: string;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function readJudge(v: unknown): JudgeScore | undefined {
  if (!isObject(v)) return undefined;
  const score = num(v.score);
  if (score === undefined) return undefined;
  const out: JudgeScore = { score };
  const model = str(v.model) ?? (isObject(v.provenance) ? str(v.provenance.model) : undefined);
  if (model !== undefined) out.model = model;
  const reasons = str(v.reasons);
  if (reasons !== undefined) out.reasons = reasons;
  if (Array.isArray(v.scale) && v.scale.length === 2) {
    const lo = num(v.scale[0]);
    const hi = num(v.scale[1]);
    if (lo !== undefined && hi !== undefined) out.scale = [lo, hi];
  }
  if (isObject(v.criteria)) {
    const c: Record<string, number> = {};
    for (const [k, x] of Object.entries(v.criteria)) if (num(x) !== undefined) c[k] = x as number;
    if (Object.keys(c).length) out.criteria = c;
  }
  if (isObject(v.provenance)) {
    const h = str(v.provenance.prompt_hash);
    const t = str(v.provenance.time);
    if (h !== undefined) out.promptHash = h;
    if (t !== undefined) out.time = t;
  }
  return out;
}

/** The panel's verdict (`judge`: one judge, or the mean of several), else the first of `judges[]`. */
export function judgeOf(value: Record<string, unknown>): JudgeScore | undefined {
  return readJudge(value.judge) ?? judgePanelOf(value)[0];
}

/**
 * The judges of the current panel: the entries of `judges[]` that share the latest entry's prompt
 * (same rubric, scale and prompt; earlier panels are kept in the record but not compared), else
 * `[judge]`. What agreement between judges is measured on.
 */
export function judgePanelOf(value: Record<string, unknown>): JudgeScore[] {
  return currentPanel(judgesOf(value), (j) => j);
}

/** Every judge: `judges[]` when present, else `[judge]`. */
export function judgesOf(value: Record<string, unknown>): JudgeScore[] {
  if (Array.isArray(value.judges)) {
    const out: JudgeScore[] = [];
    for (const j of value.judges) {
      const r = readJudge(j);
      if (r) out.push(r);
    }
    if (out.length > 0) return out;
  }
  const one = readJudge(value.judge);
  return one ? [one] : [];
}

/** The suggestions for a question (`annotations.suggestions.<question>`), as stored. */
export function suggestionsOf(value: Record<string, unknown>, question = 'label'): Suggestion[] {
  const list = getPath(value, ['annotations', 'suggestions', question]);
  if (!Array.isArray(list)) return [];
  const out: Suggestion[] = [];
  for (const s of list) {
    if (!isObject(s) || !('value' in s)) continue;
    const sug: Suggestion = { value: s.value };
    const score = num(s.score);
    if (score !== undefined) sug.score = score;
    const agent = str(s.agent);
    if (agent !== undefined) sug.agent = agent;
    const type = str(s.type);
    if (type !== undefined) sug.type = type;
    const rationale = str(s.rationale);
    if (rationale !== undefined) sug.rationale = rationale;
    if (isObject(s.provenance)) sug.provenance = s.provenance;
    out.push(sug);
  }
  return out;
}

/**
 * The model's suggestion for a question: the model-typed (or untyped) suggestion with the highest
 * score; on equal scores, the first. Suggestions without a score count as score -1.
 */
export function topSuggestion(value: Record<string, unknown>, question = 'label'): Suggestion | undefined {
  let best: Suggestion | undefined;
  for (const s of suggestionsOf(value, question)) {
    if (s.type !== undefined && s.type !== 'model') continue;
    if (!best || (s.score ?? -1) > (best.score ?? -1)) best = s;
  }
  return best;
}

/** The human's decision for a question (`annotations.human.<question>`), unless discarded. */
export function humanOf(value: Record<string, unknown>, question = 'label'): HumanResponse | undefined {
  const h = getPath(value, ['annotations', 'human', question]);
  if (!isObject(h) || !('value' in h)) return undefined;
  const out: HumanResponse = { value: h.value };
  const user = str(h.user);
  if (user !== undefined) out.user = user;
  const status = str(h.status);
  if (status !== undefined) out.status = status;
  const time = str(h.time);
  if (time !== undefined) out.time = time;
  if (out.status === 'discarded') return undefined;
  return out;
}

/** `annotations.review.status`, when set. */
export function reviewStatusOf(value: Record<string, unknown>): string | undefined {
  return str(getPath(value, ['annotations', 'review', 'status']));
}

/** `annotations.review.queue`, when set. */
export function reviewQueueOf(value: Record<string, unknown>): string | undefined {
  return str(getPath(value, ['annotations', 'review', 'queue']));
}

/**
 * Whether a record waits in a human review queue (any queue, or the one named): it was sent
 * there (`annotations.review.queue`) and nobody has reviewed it yet (`review.status` pending).
 * Relabeling, accepting or rejecting sets the status, which takes it out; the queue's name stays
 * as a record of where it came from.
 */
export function inReviewQueue(value: Record<string, unknown>, queue?: string): boolean {
  const q = reviewQueueOf(value);
  return q !== undefined && (queue === undefined || q === queue) && (reviewStatusOf(value) ?? 'pending') === 'pending';
}

/** `annotations.tags` (strings only). */
export function tagsOf(value: Record<string, unknown>): string[] {
  const t = getPath(value, ['annotations', 'tags']);
  return Array.isArray(t) ? t.filter((x): x is string => typeof x === 'string') : [];
}

/** The top-level keys that hold annotations rather than data. */
export const ANNOTATION_KEYS: ReadonlySet<string> = new Set(['label', 'rationale', 'judge', 'judges', 'annotations']);

/** A copy of the record without the annotation keys. */
export function stripAnnotations(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (!ANNOTATION_KEYS.has(k)) out[k] = v;
  return out;
}

/** A sync or async iterable, or a function that opens one (so it can be read twice). */
export type LineSource = Iterable<Line> | AsyncIterable<Line> | (() => Iterable<Line> | AsyncIterable<Line>);

/** Iterates a LineSource (calling it when it is a function). */
export async function* iterateLines(source: LineSource): AsyncGenerator<Line> {
  const it = typeof source === 'function' ? source() : source;
  if (Symbol.asyncIterator in it) {
    for await (const l of it as AsyncIterable<Line>) yield l;
  } else {
    for (const l of it as Iterable<Line>) yield l;
  }
}

/** Throws an AbortError when the signal is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    const err = new Error('The operation was aborted');
    err.name = 'AbortError';
    throw err;
  }
}
