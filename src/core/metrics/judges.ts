// Agreement between several judges over a file, for the stats view and `curate stats`: the file-
// level figures of judgesAgreement (correlations, mean absolute difference, Krippendorff's alpha)
// and how many records' judges disagree (judgesDisagree at a threshold). Nothing is computed here
// that those two do not already compute.
import { DEFAULT_DISAGREEMENT, judgeAgreement, judgesDisagree } from '../filter/thresholds';
import { storeLines } from '../sources';
import { judgesAgreement, type JudgesReport } from './agreement';

export interface JudgesSummary extends JudgesReport {
  /** Records whose judges disagree. */
  disagree: number;
  threshold: number;
}

/**
 * Over records' `judges[]` (pass only what holds judges, e.g. `{ judges }`: the records need not be
 * kept whole in memory).
 */
export function judgesSummary(
  values: Iterable<Record<string, unknown>>,
  threshold = DEFAULT_DISAGREEMENT,
): JudgesSummary {
  const judged: Record<string, unknown>[] = [];
  let disagree = 0;
  for (const v of values) {
    judged.push(v);
    if (judgesDisagree(judgeAgreement(v), threshold)) disagree++;
  }
  return { ...judgesAgreement(judged), disagree, threshold };
}

/** The same over a file, read through the store (only the judges are kept in memory). */
export function judgesSummaryOfFile(
  path: string,
  threshold = DEFAULT_DISAGREEMENT,
  signal?: AbortSignal,
): Promise<JudgesSummary> {
  return judgesSummaryOfLines(storeLines(path, signal), threshold);
}

/** The same over lines (an open dataset's: datasetLines). */
export async function judgesSummaryOfLines(
  lines: AsyncIterable<{ value?: Record<string, unknown> }>,
  threshold = DEFAULT_DISAGREEMENT,
): Promise<JudgesSummary> {
  const judged: Record<string, unknown>[] = [];
  for await (const l of lines) {
    const list = l.value?.judges;
    if (Array.isArray(list) && list.length > 1) judged.push({ judges: list });
  }
  return judgesSummary(judged, threshold);
}
