// Shared by the store subcommands.
import { FieldMap } from '../../core/schema/annotation';
import { JsonlDataset } from '../../core/store';
import { UsageError, type OptionValues } from '../cli';
import { assertJsonl } from './jsonl-only';

export { assertJsonl };

/** The flags that rename the annotation's fields (docs/record-layout.md, "Field names"). */
export const fieldFlags = {
  'label-field': { type: 'string' },
  'rationale-field': { type: 'string' },
  'judge-field': { type: 'string' },
  'judges-field': { type: 'string' },
  'annotations-field': { type: 'string' },
} as const;

/** The field map the flags give; undefined when none is given. */
export function fieldMapOf(values: OptionValues): FieldMap | undefined {
  const given: Record<string, unknown> = {};
  for (const k of ['label', 'rationale', 'judge', 'judges', 'annotations'] as const) {
    const v = values[`${k}-field`];
    if (v !== undefined) given[k] = v;
  }
  if (Object.keys(given).length === 0) return undefined;
  const fm = FieldMap.safeParse(given);
  if (!fm.success) throw new UsageError('field names must not be empty');
  return fm.data;
}

/**
 * Opens a JSONL file and waits for its full index; CSV and JSON arrays must be converted first.
 * `index: false` leaves the index unbuilt (its scan deferred) for readers that need none (stats).
 */
export async function openJsonl(
  file: string,
  signal: AbortSignal,
  opts: { index?: boolean } = {},
): Promise<JsonlDataset> {
  assertJsonl(file);
  if (opts.index === false) return JsonlDataset.open(file, { signal, deferScan: true });
  const ds = await JsonlDataset.open(file, { signal });
  try {
    await ds.ready;
  } catch (err) {
    ds.close();
    throw err;
  }
  return ds;
}

export function lineOf(ds: JsonlDataset, n: number, file: string): number {
  if (n > ds.lineCount) throw new UsageError(`line ${n} does not exist: ${file} has ${ds.lineCount} line(s)`);
  return n - 1;
}
