// Preference pairs in a record: distilabel's DPO columns (`prompt`, `chosen`, `rejected`,
// `chosen_rating`, `rejected_rating`, `chosen_model`, `rejected_model`), with `chosen` and
// `rejected` as message lists (the prompt turn included, as distilabel writes them) or plain strings
// (TRL's standard style). Read for the curation editor's side-by-side view, and swapped by the
// human (one undoable edit) when the judge picked the wrong one. See docs/record-layout.md.
import { FieldMap, defaultFields } from './annotation';
import { jsonText } from '../json-text';

type Rec = Record<string, unknown>;
const isObj = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The pairs of top-level keys a swap exchanges. */
export const PAIR_KEYS = [
  ['chosen', 'rejected'],
  ['chosen_rating', 'rejected_rating'],
  ['chosen_model', 'rejected_model'],
] as const;

/** The keys the side-by-side view shows (the record view leaves them out). */
export const PREFERENCE_FIELDS = ['prompt', ...PAIR_KEYS.flat()];

export type { PreferenceSide, PreferenceView } from '../session/views';
import type { PreferenceSide, PreferenceView } from '../session/views';

function messageText(m: unknown): string | undefined {
  if (!isObj(m)) return undefined;
  const c = m.content;
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.map((p) => (isObj(p) && typeof p.text === 'string' ? p.text : '')).join('');
  return undefined;
}

function lastOfRole(list: unknown[], role: string): string | undefined {
  for (let i = list.length - 1; i >= 0; i--) {
    const m = list[i];
    if (isObj(m) && m.role === role) return messageText(m);
  }
  return undefined;
}

function responseText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return lastOfRole(v, 'assistant') ?? JSON.stringify(v);
  return jsonText(v) ?? '';
}

function promptText(record: Rec): string {
  const p = record.prompt;
  if (typeof p === 'string') return p;
  if (Array.isArray(p)) return lastOfRole(p, 'user') ?? JSON.stringify(p);
  const chosen = record.chosen;
  if (Array.isArray(chosen)) return lastOfRole(chosen, 'user') ?? '';
  for (const k of ['instruction', 'question']) if (typeof record[k] === 'string') return record[k];
  return '';
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function isPreference(record: Rec): boolean {
  return record.chosen !== undefined && record.rejected !== undefined;
}

export function readPreference(record: Rec, fields: FieldMap = defaultFields): PreferenceView | undefined {
  if (!isPreference(record)) return undefined;
  const side = (k: 'chosen' | 'rejected'): PreferenceSide => {
    const s: PreferenceSide = { text: responseText(record[k]) };
    const rating = num(record[`${k}_rating`]);
    const model = str(record[`${k}_model`]);
    if (rating !== undefined) s.rating = rating;
    if (model !== undefined) s.model = model;
    return s;
  };
  const ann = record[fields.annotations];
  const human =
    isObj(ann) && isObj(ann.human) && isObj(ann.human.preference) ? str(ann.human.preference.value) : undefined;
  return {
    prompt: promptText(record),
    chosen: side('chosen'),
    rejected: side('rejected'),
    ...(human !== undefined ? { human } : {}),
    fields: PREFERENCE_FIELDS.filter((k) => k in record),
  };
}

/**
 * Swaps chosen and rejected with their ratings and models, and records the human's decision beside
 * the judge's verdict (`annotations.human.preference`: "swapped", or "kept" after swapping back; the
 * judge's own ratings stay in `ratings`/`generations`), marking the record reviewed. Key order is
 * kept, so only those values change in the line.
 */
export function swapPreference(
  record: Rec,
  when: { time?: string; user?: string } = {},
  fields: FieldMap = defaultFields,
): Rec {
  if (!isPreference(record))
    throw new Error('This record is not a preference pair (it needs "chosen" and "rejected").');
  const out: Rec = { ...record };
  for (const [a, b] of PAIR_KEYS) {
    const va = record[a];
    const vb = record[b];
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- one of PAIR_KEYS, deleted in place to keep key order
    if (vb === undefined) delete out[a];
    else out[a] = vb;
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- one of PAIR_KEYS, deleted in place to keep key order
    if (va === undefined) delete out[b];
    else out[b] = va;
  }
  const annRaw = record[fields.annotations];
  const ann: Rec = isObj(annRaw) ? structuredClone(annRaw) : {};
  const human: Rec = isObj(ann.human) ? ann.human : {};
  const before = isObj(human.preference) ? human.preference.value : undefined;
  human.preference = {
    value: before === 'swapped' ? 'kept' : 'swapped',
    ...(when.user ? { user: when.user } : {}),
    status: 'submitted',
    ...(when.time ? { time: when.time } : {}),
  };
  ann.human = human;
  ann.review = {
    ...(isObj(ann.review) ? ann.review : {}),
    status: 'reviewed',
    ...(when.time ? { time: when.time } : {}),
  };
  out[fields.annotations] = ann;
  return out;
}
