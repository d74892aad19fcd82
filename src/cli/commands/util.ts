// Shared by the store subcommands.
import { JsonlDataset } from '../../core/store';
import { UsageError } from '../cli';
import { assertJsonl } from './jsonl-only';

export { assertJsonl };
export { fieldFlags, fieldMapOf } from './field-flags';

/** Opens a JSONL file and waits for its full index; CSV and JSON arrays must be converted first. */
export async function openJsonl(file: string, signal: AbortSignal): Promise<JsonlDataset> {
  assertJsonl(file);
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
