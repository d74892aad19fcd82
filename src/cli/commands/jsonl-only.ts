// The check that a command's file is JSONL, in a module of its own: `curate set` and `curate get`
// import it without ./util.ts (which loads the store, the annotation schema and zod).
import { detectFormat } from '../../core/formats/detect';
import { UsageError } from '../cli';

/** A usage error unless `file` is JSONL: other formats are read by some commands, edited by none (convert them first). */
export function assertJsonl(file: string): void {
  const fmt = detectFormat(file);
  if (fmt === 'hub')
    throw new UsageError(
      `${file} is a folder (a Hugging Face dataset?): convert a split first with "curate convert ${file} --split train --out train.jsonl"`,
    );
  if (fmt === 'csv' || fmt === 'tsv' || fmt === 'json' || fmt === 'parquet' || fmt === 'jsonl.gz') {
    const out = file.replace(/\.(csv|tsv|json|parquet|jsonl\.gz|ndjson\.gz)$/i, '') + '.jsonl';
    throw new UsageError(
      `${file} is ${fmt === 'jsonl.gz' ? 'gzip-compressed JSONL' : fmt === 'parquet' ? 'Parquet' : fmt.toUpperCase()}, not JSONL: convert it first with "curate convert ${file} --out ${out}"`,
    );
  }
}
