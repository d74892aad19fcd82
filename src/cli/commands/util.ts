// Shared by the store subcommands.
import { detectFormat } from '../../core/formats';
import { JsonlDataset } from '../../core/store';
import { UsageError } from '../cli';

/** Opens a JSONL file and waits for its full index; CSV and JSON arrays must be converted first. */
export async function openJsonl(file: string, signal: AbortSignal): Promise<JsonlDataset> {
  const fmt = detectFormat(file);
  if (fmt === 'csv' || fmt === 'tsv' || fmt === 'json') {
    throw new UsageError(`${file} is ${fmt.toUpperCase()}, not JSONL: convert it first with "curate convert ${file} --out FILE.jsonl"`);
  }
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
