// Record queries shared by the editor's search, the list mode and (later) the filter jobs.
import type { AnnotationView, SearchQuery } from './session/views';
import { DEFAULT_DISAGREEMENT, judgeAgreement, judgesDisagree } from './filter/judge-agreement';
import { readAnnotation } from './schema/annotation';
import { inReviewQueue } from './filter/fields';
import { labelKey, pickLabel, type LabelSourceName } from './metrics/agreement-core';

export interface QueryOptions {
  /** When judges disagree: the share of the scale their scores differ by (default 0.3). */
  disagreement?: number;
}

/** What a query sees of a line: the store's LineView has these. */
export interface QueryLine {
  raw: string;
  value?: unknown;
  invalid?: { reason: string };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The normalized annotation of a record, in the protocol's shape, with its judges' agreement. */
export function recordAnnotation(value: Record<string, unknown>, opts: QueryOptions = {}): AnnotationView {
  const view: AnnotationView = readAnnotation(value);
  const a = judgeAgreement(value);
  if (a) {
    const threshold = opts.disagreement ?? DEFAULT_DISAGREEMENT;
    view.judgeAgreement = { ...a, disagree: judgesDisagree(a, threshold), threshold };
  }
  return view;
}

/** Compiles a query into a predicate over lines. Throws a clear error for a bad regular expression. */
export function matchesQuery(q: SearchQuery, opts: QueryOptions = {}): (line: QueryLine) => boolean {
  let text: ((s: string) => boolean) | undefined;
  if (q.text) {
    if (q.regex) {
      let re: RegExp;
      try {
        re = new RegExp(q.text);
      } catch (err) {
        throw new Error(`Invalid regular expression: ${err instanceof Error ? err.message : String(err)}`, {
          cause: err,
        });
      }
      text = (s) => re.test(s);
    } else {
      const needle = q.text.toLowerCase();
      text = (s) => s.toLowerCase().includes(needle);
    }
  }
  const needsAnnotation =
    q.label !== undefined ||
    q.minScore !== undefined ||
    q.maxScore !== undefined ||
    q.reviewStatus !== undefined ||
    q.inQueue !== undefined ||
    q.agreementCell !== undefined;
  const threshold = opts.disagreement ?? DEFAULT_DISAGREEMENT;
  return (line) => {
    if (q.invalid !== undefined && !!line.invalid !== q.invalid) return false;
    if (text && !text(textOf(line))) return false;
    if (
      q.judgesDisagree !== undefined &&
      (!isObject(line.value) || judgesDisagree(judgeAgreement(line.value), threshold) !== q.judgesDisagree)
    )
      return false;
    if (!needsAnnotation) return true;
    if (!isObject(line.value)) return false;
    const ann = readAnnotation(line.value);
    if (q.label !== undefined && ann.label !== q.label) return false;
    const score = ann.judge?.score;
    if (q.minScore !== undefined && (score === undefined || score < q.minScore)) return false;
    if (q.maxScore !== undefined && (score === undefined || score > q.maxScore)) return false;
    if (q.reviewStatus !== undefined && (ann.reviewStatus ?? 'pending') !== q.reviewStatus) return false;
    if (q.inQueue !== undefined && inReviewQueue(line.value) !== q.inQueue) return false;
    if (q.agreementCell && !inCell(line.value, q.agreementCell)) return false;
    return true;
  };
}

/** Whether a record falls in a confusion-matrix cell: its reference and predicted labels are the cell's (as the agreement report counts them). */
function inCell(v: Record<string, unknown>, c: NonNullable<SearchQuery['agreementCell']>): boolean {
  const a = pickLabel(c.reference as LabelSourceName, v, c.question, undefined);
  const b = pickLabel(c.prediction as LabelSourceName, v, c.question, undefined);
  return (
    a !== undefined &&
    a !== null &&
    b !== undefined &&
    b !== null &&
    labelKey(a) === c.referenceLabel &&
    labelKey(b) === c.predictionLabel
  );
}

/** The text a search looks in: the record's string values (not its JSON syntax), or the raw line. */
function textOf(line: QueryLine): string {
  if (!isObject(line.value)) return line.raw;
  const parts: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string') parts.push(v);
    else if (typeof v === 'number' || typeof v === 'boolean') parts.push(String(v));
    else if (Array.isArray(v)) v.forEach(walk);
    else if (isObject(v)) Object.values(v).forEach(walk);
  };
  walk(line.value);
  return parts.join('\n');
}
