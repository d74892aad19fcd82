// The curation editor's statistics view over an open dataset (its unsaved edits included): the
// store's figures and, when records carry several judges, how the judges agree. Node-side (the
// store); the pure session model is session.ts.
import { computeStats } from '../store/stats';
import type { JsonlDataset } from '../store';
import { judgesSummaryOfLines } from '../metrics/judges';
import { datasetLines } from '../sources';
import type { StatsPayload } from './views';

export async function editorStats(ds: JsonlDataset, disagreement: number): Promise<StatsPayload> {
  await ds.ready;
  const s = await computeStats(ds);
  // Only the judges are kept while reading; none when no record has two.
  const judges = s.scored > 0 ? await judgesSummaryOfLines(datasetLines(ds), disagreement) : undefined;
  return { ...s, meanScore: s.meanScore ?? undefined, judges: judges && judges.raters.length > 0 ? judges : undefined };
}
