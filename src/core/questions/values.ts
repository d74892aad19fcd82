// Checking and normalizing an answer of each question type (a person's or a model's), against the
// declaration and, for spans and rankings, against the record. An answer that does not fit is
// refused with the reason, never bent to fit: a span whose text is not at its offsets is an error,
// not a silent shift.
//
// Span offsets count Unicode code points (what Python's len() and Argilla count, and what spaCy's
// character offsets are), not UTF-16 units: "é" and "😀" are one each.
import { getPath } from '../filter/fields';
import {
  candidateIds,
  RankValue,
  SpanValue,
  type AnswerValue,
  type Question,
  type RankingQuestion,
  type SpanQuestion,
} from './schema';

export type Checked<T = AnswerValue> = { ok: true; value: T } | { ok: false; reason: string };

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const show = (s: string, max = 40): string => JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);

// ---------------------------------------------------------------------------------------------
// Code points

/** The text's length in code points. */
export function cpLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** UTF-16 index -> code-point index. */
export function toCodePoint(text: string, utf16: number): number {
  let cp = 0;
  for (let i = 0; i < utf16 && i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) i++;
    cp++;
  }
  return cp;
}

/** Code-point index -> UTF-16 index (clamped to the text). */
export function toUtf16(text: string, cp: number): number {
  let i = 0;
  for (let k = 0; k < cp && i < text.length; k++) {
    const c = text.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < text.length ? 2 : 1;
  }
  return i;
}

/** The text between two code-point offsets. */
export function cpSlice(text: string, start: number, end: number): string {
  return text.slice(toUtf16(text, start), toUtf16(text, end));
}

/** The text of a record's field for spans: a string, else undefined. */
export function spanFieldText(record: Record<string, unknown>, field: string): string | undefined {
  const v = getPath(record, field);
  return typeof v === 'string' ? v : undefined;
}

/**
 * Where a quoted piece of text is: its `occurrence`-th appearance (1-based) in the text, as
 * code-point offsets; undefined when it is not there that often.
 */
export function locateQuote(text: string, quote: string, occurrence = 1): { start: number; end: number } | undefined {
  if (quote === '' || occurrence < 1) return undefined;
  let at = -1;
  for (let k = 0; k < occurrence; k++) {
    at = text.indexOf(quote, at + 1);
    if (at < 0) return undefined;
  }
  const start = toCodePoint(text, at);
  return { start, end: start + cpLength(quote) };
}

/** How often a quote appears in a text (overlapping appearances count). */
export function occurrences(text: string, quote: string): number {
  if (quote === '') return 0;
  let n = 0;
  for (let at = text.indexOf(quote); at >= 0; at = text.indexOf(quote, at + 1)) n++;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Per type

/** The candidates of a ranking question in a record: the list field's items, or the fields its options name. */
export function rankingCandidates(record: Record<string, unknown>, q: RankingQuestion): unknown[] | undefined {
  if (q.field === undefined) {
    // Argilla's way: the options name the record's fields (response-1, response-2), else they are the candidates themselves
    return (q.options ?? []).map((o) => (record[o] !== undefined ? record[o] : o));
  }
  const v = getPath(record, q.field);
  return Array.isArray(v) ? v : undefined;
}

/** What a ranking question ranks, for messages: its list field, or its fields. */
export function rankingSource(q: RankingQuestion): string {
  return q.field ?? (q.options ?? []).join(', ');
}

function checkSpans(
  q: SpanQuestion,
  value: unknown,
  record: Record<string, unknown> | undefined,
): Checked<SpanValue[]> {
  if (!Array.isArray(value))
    return { ok: false, reason: `a span answer is a list of {label, start, end}, got ${typeof value}` };
  const text = record ? spanFieldText(record, q.field) : undefined;
  if (record && text === undefined) return { ok: false, reason: `the record has no text field "${q.field}" for spans` };
  const length = text === undefined ? Infinity : cpLength(text);
  const out: SpanValue[] = [];
  for (const [i, raw] of value.entries()) {
    const p = SpanValue.safeParse(raw);
    const n = `span ${i + 1}`;
    if (!p.success) return { ok: false, reason: `${n} is not {label, start, end} with integer offsets` };
    const s = p.data;
    if (!q.labels.includes(s.label))
      return { ok: false, reason: `${n} has the label "${s.label}", not one of ${q.labels.join(', ')}` };
    if (s.end <= s.start)
      return { ok: false, reason: `${n} (${s.label}) ends at ${s.end}, not after its start ${s.start}` };
    if (s.end > length)
      return {
        ok: false,
        reason: `${n} (${s.label}, ${s.start}-${s.end}) ends past the end of "${q.field}" (${length} characters)`,
      };
    if (text !== undefined) {
      const covered = cpSlice(text, s.start, s.end);
      if (s.text !== undefined && s.text !== covered) {
        return {
          ok: false,
          reason: `${n} (${s.label}, ${s.start}-${s.end}) says it covers ${show(s.text)} but "${q.field}" has ${show(covered)} there`,
        };
      }
      out.push({ label: s.label, start: s.start, end: s.end, text: covered });
    } else out.push(s);
  }
  out.sort((a, b) => a.start - b.start || a.end - b.end || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  for (let i = 1; i < out.length; i++) {
    const a = out[i - 1] as SpanValue;
    const b = out[i] as SpanValue;
    if (a.start === b.start && a.end === b.end && a.label === b.label)
      return { ok: false, reason: `the span ${a.label} ${a.start}-${a.end} is given twice` };
    if (!q.allowOverlapping && b.start < a.end)
      return {
        ok: false,
        reason: `the spans ${a.label} ${a.start}-${a.end} and ${b.label} ${b.start}-${b.end} overlap (the question does not allow overlapping spans)`,
      };
  }
  return { ok: true, value: out };
}

function checkRanking(
  q: RankingQuestion,
  value: unknown,
  record: Record<string, unknown> | undefined,
): Checked<RankValue[]> {
  if (!Array.isArray(value))
    return { ok: false, reason: 'a ranking is a list of {value, rank} (or of candidate names, best first)' };
  // A plain list of names, best first, is shorthand for ranks 1..n.
  const items: unknown[] = value.every((v) => typeof v === 'string')
    ? value.map((v, i) => ({ value: v, rank: i + 1 }))
    : value;
  const candidates = record ? rankingCandidates(record, q) : undefined;
  if (record && !candidates)
    return {
      ok: false,
      reason: q.field
        ? `the record has no list field "${q.field}" to rank`
        : `the record lacks one of the fields to rank (${rankingSource(q)})`,
    };
  const ids = candidates ? candidateIds(q, candidates.length) : q.options;
  const out: RankValue[] = [];
  const seen = new Set<string>();
  for (const [i, raw] of items.entries()) {
    const p = RankValue.safeParse(raw);
    if (!p.success) return { ok: false, reason: `ranking item ${i + 1} is not {value, rank} with a rank of 1 or more` };
    if (ids && !ids.includes(p.data.value))
      return { ok: false, reason: `"${p.data.value}" is not a candidate (candidates: ${ids.join(', ')})` };
    if (seen.has(p.data.value)) return { ok: false, reason: `"${p.data.value}" is ranked twice` };
    seen.add(p.data.value);
    out.push(p.data);
  }
  if (out.length < 2) return { ok: false, reason: 'a ranking orders at least two candidates' };
  const n = ids?.length ?? out.length;
  const high = out.find((r) => r.rank > n);
  if (high)
    return { ok: false, reason: `"${high.value}" has rank ${high.rank}, above the number of candidates (${n})` };
  out.sort((a, b) => a.rank - b.rank || (ids ? ids.indexOf(a.value) - ids.indexOf(b.value) : 0));
  return { ok: true, value: out };
}

/**
 * Checks an answer against its question (and the record, for spans and rankings) and returns it
 * normalized: multi-labels unique in the declaration's order, spans sorted with the text they
 * cover, rankings best first (a list of names, best first, becomes {value, rank} items).
 */
export function checkAnswer(q: Question, value: unknown, record?: Record<string, unknown>): Checked {
  switch (q.type) {
    case 'label':
      if (typeof value !== 'string') return { ok: false, reason: `a label is a string, got ${JSON.stringify(value)}` };
      return q.labels.includes(value)
        ? { ok: true, value }
        : { ok: false, reason: `"${value}" is not one of ${q.labels.join(', ')}` };
    case 'multi-label': {
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
        return { ok: false, reason: 'a multi-label answer is a list of labels' };
      const unknown = value.filter((v) => !q.labels.includes(v));
      if (unknown.length)
        return {
          ok: false,
          reason: `${unknown.map((u) => `"${u}"`).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not one of ${q.labels.join(', ')}`,
        };
      const set = new Set(value);
      return { ok: true, value: q.labels.filter((l) => set.has(l)) };
    }
    case 'rating':
      if (typeof value !== 'number' || !Number.isInteger(value))
        return { ok: false, reason: `a rating is an integer, got ${JSON.stringify(value)}` };
      return value >= q.min && value <= q.max
        ? { ok: true, value }
        : { ok: false, reason: `the rating ${value} is outside ${q.min}-${q.max}` };
    case 'ranking':
      return checkRanking(q, value, record);
    case 'text':
      if (typeof value !== 'string')
        return { ok: false, reason: `a text answer is a string, got ${JSON.stringify(value)}` };
      return value.trim() === '' ? { ok: false, reason: 'the text answer is empty' } : { ok: true, value };
    case 'span':
      return checkSpans(q, value, record);
  }
}

/** A value as the number a rating question compares, else undefined. */
export function ratingOf(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** A value as a set of labels: a multi-label list, or a single label as a one-label set. */
export function labelSetOf(v: unknown): string[] | undefined {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  return undefined;
}

/** A ranking value as {candidate: rank}; a list of names, best first, too. */
export function ranksOf(v: unknown): Map<string, number> | undefined {
  if (!Array.isArray(v) || v.length === 0) return undefined;
  const m = new Map<string, number>();
  for (const [i, x] of v.entries()) {
    if (typeof x === 'string') m.set(x, i + 1);
    else if (isObj(x) && typeof x.value === 'string' && typeof x.rank === 'number') m.set(x.value, x.rank);
    else return undefined;
  }
  return m;
}

/** A span value's spans ({label, start, end}); undefined when it is not a list of spans. */
export function spansOf(v: unknown): SpanValue[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: SpanValue[] = [];
  for (const x of v) {
    const p = SpanValue.safeParse(x);
    if (!p.success) return undefined;
    out.push(p.data);
  }
  return out;
}
