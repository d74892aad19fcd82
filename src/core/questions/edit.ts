// What a person does to an answer in the curation editor, as pure functions from the current value
// to the next (the editor then writes it with answerEdits, one undoable edit): toggle a label,
// rate, move a candidate up or down, add or remove a span from a text selection. The editor's
// selection offsets are UTF-16 (the DOM's); spans are stored in code points: spanFromSelection
// converts.
import type { RankValue, SpanValue } from './schema';
import { cpSlice, toCodePoint } from './values';

/** Multi-label: the label on or off (the result keeps `order`, the declaration's). */
export function toggleLabel(value: readonly string[] | undefined, label: string, order: readonly string[]): string[] {
  const set = new Set(value ?? []);
  if (set.has(label)) set.delete(label);
  else set.add(label);
  return order.filter((l) => set.has(l));
}

/**
 * Ranking: the candidate moved `by` places (negative: towards the best), ranks renumbered 1..n
 * (a tie is broken by the move). Candidates not yet ranked are added at the end in `ids` order.
 */
export function moveCandidate(
  value: readonly RankValue[] | undefined,
  id: string,
  by: number,
  ids: readonly string[],
): RankValue[] {
  const order = [...(value ?? [])].sort((a, b) => a.rank - b.rank).map((r) => r.value);
  for (const c of ids) if (!order.includes(c)) order.push(c);
  const from = order.indexOf(id);
  if (from < 0) return order.map((v, i) => ({ value: v, rank: i + 1 }));
  const to = Math.max(0, Math.min(order.length - 1, from + by));
  order.splice(from, 1);
  order.splice(to, 0, id);
  return order.map((v, i) => ({ value: v, rank: i + 1 }));
}

/**
 * A span from a selection in the field's text given in UTF-16 offsets (as the DOM gives them):
 * code-point offsets and the covered text; leading and trailing white space trimmed off the
 * selection. Undefined for an empty (or all-blank) selection.
 */
export function spanFromSelection(
  text: string,
  utf16Start: number,
  utf16End: number,
  label: string,
): SpanValue | undefined {
  let a = Math.max(0, Math.min(utf16Start, utf16End));
  let b = Math.min(text.length, Math.max(utf16Start, utf16End));
  while (a < b && /\s/.test(text[a] as string)) a++;
  while (b > a && /\s/.test(text[b - 1] as string)) b--;
  if (a >= b) return undefined;
  const start = toCodePoint(text, a);
  const end = toCodePoint(text, b);
  return { label, start, end, text: cpSlice(text, start, end) };
}

/** Spans with one added (kept sorted; an identical span is not added twice). */
export function addSpan(value: readonly SpanValue[] | undefined, span: SpanValue): SpanValue[] {
  const list = [...(value ?? [])];
  if (!list.some((s) => s.label === span.label && s.start === span.start && s.end === span.end)) list.push(span);
  return list.sort((x, y) => x.start - y.start || x.end - y.end);
}

/** Spans without the one at `index` (as listed). */
export function removeSpan(value: readonly SpanValue[] | undefined, index: number): SpanValue[] {
  return (value ?? []).filter((_, i) => i !== index);
}

/** The spans that overlap a new one (to warn when the question does not allow overlapping). */
export function overlapping(
  value: readonly SpanValue[] | undefined,
  span: Pick<SpanValue, 'start' | 'end'>,
): SpanValue[] {
  return (value ?? []).filter((s) => s.start < span.end && span.start < s.end);
}
