// Lines from in-memory records and raw strings (tests, scripts). Files are read through the store
// (src/core/sources.ts), which every operation uses by default.
import { checkLineText } from '../store/check';
import type { Line } from './fields';

export function parseLine(index: number, raw: string): Line {
  if (raw.trim() === '') return { index, raw, invalid: { reason: 'empty line' } };
  const c = checkLineText(raw);
  return c.value ? { index, raw, value: c.value } : { index, raw, invalid: c.invalid ?? { reason: 'invalid' } };
}

/** Lines from plain records (tests, scripts): raw is the record's JSON. */
export function linesOf(records: readonly Record<string, unknown>[]): Line[] {
  return records.map((value, index) => ({ index, value, raw: JSON.stringify(value) }));
}
