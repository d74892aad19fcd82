// The default names of the annotation's fields, without zod: the commands that must start fast
// (`curate stats`) read them from here; annotation.ts's FieldMap takes its defaults from here too,
// so the two cannot differ.

/** Where the annotation lives in a record (FieldMap's shape; docs/record-layout.md, "Field names"). */
export interface FieldNames {
  label: string;
  rationale: string;
  judge: string;
  judges: string;
  annotations: string;
  question: string;
}

export const DEFAULT_FIELD_NAMES: Readonly<FieldNames> = Object.freeze({
  label: 'label',
  rationale: 'rationale',
  judge: 'judge',
  judges: 'judges',
  annotations: 'annotations',
  question: 'label',
});

/** The names given over the defaults, as FieldMap.parse gives them; undefined when a given name is empty. */
export function fieldNamesOf(given: Partial<Record<keyof FieldNames, string>>): FieldNames | undefined {
  const out: FieldNames = { ...DEFAULT_FIELD_NAMES };
  for (const k of Object.keys(DEFAULT_FIELD_NAMES) as (keyof FieldNames)[]) {
    const v = given[k];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v.length === 0) return undefined;
    out[k] = v;
  }
  return out;
}
