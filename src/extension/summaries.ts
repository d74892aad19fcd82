// The per-file figures the Datasets view shows, computed by the core over the store.
import { JsonlDataset } from '../core/jsonl';
import { collectStats, type DatasetStats } from '../core/stats';

export type FileSummary = Omit<DatasetStats, 'meanScore'> & { meanScore?: number };

export async function summarizeFile(
  path: string,
  opts: { signal: AbortSignal; onProgress: (share: number) => void },
): Promise<FileSummary> {
  const dataset = await JsonlDataset.open(path, {
    signal: opts.signal,
    onProgress: (p) => opts.onProgress(p.totalBytes ? p.bytes / p.totalBytes : 0),
  });
  try {
    await dataset.ready;
    const s = collectStats(path, dataset.lineCount, (i) => dataset.line(i), undefined, opts.signal);
    return { ...s, meanScore: s.meanScore ?? undefined };
  } finally {
    dataset.close();
  }
}
