// A dataset file's format from its name (or a Hugging Face dataset folder): a module of its own,
// without the readers and writers of ./index.ts, so a command that only checks the format (`curate
// set`, `curate get`) does not load them at start.
import { statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { NotADatasetError } from '../store/errors';
import { hubSplitFiles } from './hf';

/** `hub`: a Hugging Face dataset folder (its split's Parquet shards). */
export type Format = 'jsonl' | 'json' | 'csv' | 'tsv' | 'parquet' | 'jsonl.gz' | 'hub';

/**
 * The format of a file from its extension; a folder holding Parquet files is a Hugging Face dataset
 * folder, any other folder is not a dataset (NotADatasetError).
 */
export function detectFormat(path: string): Format | undefined {
  if (isDirectory(path)) {
    if (hubSplitFiles(path, 'train').splits.length === 0)
      throw new NotADatasetError(path, 'is a folder, not a dataset file');
    return 'hub';
  }
  const name = basename(path).toLowerCase();
  if (name.endsWith('.jsonl.gz') || name.endsWith('.ndjson.gz')) return 'jsonl.gz';
  switch (extname(path).toLowerCase()) {
    case '.parquet':
      return 'parquet';
    case '.jsonl':
    case '.ndjson':
      return 'jsonl';
    case '.json':
      return 'json';
    case '.csv':
      return 'csv';
    case '.tsv':
      return 'tsv';
    default:
      return undefined;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
