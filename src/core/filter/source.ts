// Lines from in-memory records and raw strings (tests, scripts). Files are read through the store
// (src/core/sources.ts), which every operation uses by default.
import { isObject, type Line } from './fields';

export function parseLine(index: number, raw: string): Line {
  if (raw.trim() === '') return { index, raw, invalid: { reason: 'empty line' } };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    return { index, raw, invalid: { reason: err instanceof Error ? err.message : String(err) } };
  }
  if (!isObject(value)) return { index, raw, invalid: { reason: 'not a JSON object' } };
  return { index, raw, value };
}

/** Lines from plain records (tests, scripts): raw is the record's JSON. */
export function linesOf(records: readonly Record<string, unknown>[]): Line[] {
  return records.map((value, index) => ({ index, value, raw: JSON.stringify(value) }));
}
