// The per-file figures the Datasets view shows, computed by the core over the store.
import { JsonlDataset, computeStats, type DatasetStats } from '../core/store';

export type FileSummary = Omit<DatasetStats, 'meanScore'> & { meanScore?: number };

export async function summarizeFile(
  path: string,
  opts: { signal: AbortSignal; onProgress: (share: number) => void },
): Promise<FileSummary> {
  // No line index (deferScan): the counts read the file's bytes as they are.
  const dataset = await JsonlDataset.open(path, { signal: opts.signal, deferScan: true });
  try {
    const s = await computeStats(dataset, undefined, {
      signal: opts.signal,
      onProgress: (p) => opts.onProgress(p.totalBytes ? p.bytes / p.totalBytes : 0),
    });
    return { ...s, meanScore: s.meanScore ?? undefined };
  } finally {
    dataset.close();
  }
}
