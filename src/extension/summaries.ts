// The per-file figures the Datasets view shows, computed by the core over the store.
import { JsonlDataset, computeStats, type DatasetStats } from '../core/store';

export type FileSummary = Omit<DatasetStats, 'meanScore'> & { meanScore?: number };

export async function summarizeFile(
  path: string,
  opts: { signal: AbortSignal; onProgress: (share: number) => void },
): Promise<FileSummary> {
  const dataset = await JsonlDataset.open(path, {
    signal: opts.signal,
    onProgress: (p) => opts.onProgress(p.totalBytes ? p.bytes / p.totalBytes / 2 : 0),
  });
  try {
    const s = await computeStats(dataset, undefined, {
      signal: opts.signal,
      onProgress: (p) => opts.onProgress(0.5 + (p.totalBytes ? p.bytes / p.totalBytes / 2 : 0)),
    });
    return { ...s, meanScore: s.meanScore ?? undefined };
  } finally {
    dataset.close();
  }
}
