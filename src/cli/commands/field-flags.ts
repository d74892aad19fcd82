// The flags that rename the annotation's fields, without zod or the store: `curate stats` loads
// only this (its start counts against DuckDB in bench/stats.ts); ./util.ts re-exports both.
import { fieldNamesOf, type FieldNames } from '../../core/schema/field-names';
import { UsageError, type OptionValues } from '../cli';

/** The flags that rename the annotation's fields (docs/record-layout.md, "Field names"). */
export const fieldFlags = {
  'label-field': { type: 'string' },
  'rationale-field': { type: 'string' },
  'judge-field': { type: 'string' },
  'judges-field': { type: 'string' },
  'annotations-field': { type: 'string' },
} as const;

/** The field map the flags give; undefined when none is given. */
export function fieldMapOf(values: OptionValues): FieldNames | undefined {
  const given: Partial<Record<keyof FieldNames, string>> = {};
  for (const k of ['label', 'rationale', 'judge', 'judges', 'annotations'] as const) {
    const v = values[`${k}-field`];
    if (v === undefined) continue;
    if (typeof v !== 'string') throw new UsageError(`--${k}-field takes one name`);
    given[k] = v;
  }
  if (Object.keys(given).length === 0) return undefined;
  const fm = fieldNamesOf(given);
  if (!fm) throw new UsageError('field names must not be empty');
  return fm;
}
