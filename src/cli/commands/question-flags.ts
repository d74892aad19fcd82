// The question flags of annotate, agreement, filter and review-queue, mapped onto the core's
// QuestionOptions (src/core/questions/resolve.ts):
//   --question topics --multi-label --labels a,b,c      --question quality --rating 1-5
//   --question pii --spans EMAIL,PHONE --field text     --question best --rank FIELD
//   --question fix --text [--field response]            --questions-file FILE
// A question declared in .curator/questions.json needs only --question NAME.
import type { QuestionOptions } from '../../core/questions/resolve';
import { UsageError, type OptionValues } from '../cli';
import { list } from './llm-common';

export const questionFlags = {
  question: { type: 'string' },
  'multi-label': { type: 'boolean' },
  rating: { type: 'string' },
  rank: { type: 'string' },
  spans: { type: 'string' },
  text: { type: 'boolean' },
  field: { type: 'string' },
  'allow-overlap': { type: 'boolean' },
  'questions-file': { type: 'string' },
} as const;

export const questionUsage =
  '  --question NAME (declared in .curator/questions.json, or described by one of:)\n' +
  '    --multi-label --labels a,b,c | --rating MIN-MAX | --rank LIST_FIELD | --spans A,B --field TEXT_FIELD [--allow-overlap] | --text [--field F]\n' +
  '  --questions-file FILE (default: the nearest .curator/questions.json)';

/** The question options the flags give (labels: --spans' for a span question, else --labels). */
export function questionOptionsOf(values: OptionValues): QuestionOptions & { question?: string; labels?: string[] } {
  const types = [
    values['multi-label'] ? 'multi-label' : '',
    values.rating !== undefined ? 'rating' : '',
    values.rank !== undefined ? 'ranking' : '',
    values.spans !== undefined ? 'span' : '',
    values.text ? 'text' : '',
  ].filter(Boolean);
  if (types.length > 1)
    throw new UsageError(
      `choose one question type: ${types.map((t) => `--${t === 'ranking' ? 'rank' : t === 'span' ? 'spans' : t}`).join(', ')}`,
    );
  const out: QuestionOptions & { question?: string; labels?: string[] } = {};
  if (typeof values.question === 'string') out.question = values.question;
  if (typeof values['questions-file'] === 'string') out.questionsFile = values['questions-file'];
  const type = types[0];
  if (type && out.question === undefined)
    throw new UsageError(
      `--${type === 'ranking' ? 'rank' : type === 'span' ? 'spans' : type} needs --question NAME (the name its answers are kept under)`,
    );
  if (type === 'multi-label') out.questionType = 'multi-label';
  if (type === 'rating') {
    const m = /^(-?\d+)-(-?\d+)$/.exec(String(values.rating));
    if (!m) throw new UsageError(`--rating takes MIN-MAX, e.g. 1-5; got ${JSON.stringify(values.rating)}`);
    out.questionType = 'rating';
    out.scale = [Number(m[1]), Number(m[2])];
  }
  if (type === 'ranking') {
    if (typeof values.rank !== 'string' || values.rank === '')
      throw new UsageError('--rank takes the list field of candidates, e.g. --rank generations');
    out.questionType = 'ranking';
    out.questionField = values.rank;
  }
  if (type === 'span') {
    const labels = list(values.spans);
    if (labels.length === 0) throw new UsageError('--spans takes the span labels, e.g. --spans EMAIL,PHONE');
    if (typeof values.field !== 'string')
      throw new UsageError('--spans needs --field, the text field the spans are in');
    out.questionType = 'span';
    out.labels = labels;
  }
  if (type === 'text') out.questionType = 'text';
  if (typeof values.field === 'string' && type !== 'ranking') out.questionField = values.field;
  if (values['allow-overlap']) out.allowOverlapping = true;
  if (type !== 'span' && values.labels !== undefined) out.labels = list(values.labels);
  return out;
}

/** filter's per-question flags. */
export const questionFilterFlags = {
  ...questionFlags,
  labels: { type: 'string' },
  'min-rating': { type: 'string' },
  'max-rating': { type: 'string' },
  'has-label': { type: 'string', multiple: true },
  'lacks-label': { type: 'string', multiple: true },
  answered: { type: 'string' },
  'valid-answers': { type: 'boolean' },
} as const;

export const questionFilterUsage =
  '  per question: --question NAME [--min-rating N] [--max-rating N] [--has-label L]... [--lacks-label L]... [--answered human|any] [--valid-answers]\n' +
  questionUsage;

function number(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n))
    throw new UsageError(`--${name} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

/** filter's per-question options (src/core/questions/filters.ts' QuestionFilterOptions). */
export function questionFilterOptionsOf(values: OptionValues): Record<string, unknown> {
  const out: Record<string, unknown> = { ...questionOptionsOf(values) };
  const put = (k: string, v: unknown) => v !== undefined && (out[k] = v);
  put('minRating', number(values['min-rating'], 'min-rating'));
  put('maxRating', number(values['max-rating'], 'max-rating'));
  if (values['has-label']) out.hasLabels = values['has-label'];
  if (values['lacks-label']) out.lacksLabels = values['lacks-label'];
  if (values.answered !== undefined) {
    if (values.answered !== 'human' && values.answered !== 'any')
      throw new UsageError(`--answered takes human or any, got ${JSON.stringify(values.answered)}`);
    out.answered = values.answered;
  }
  if (values['valid-answers']) out.validAnswers = true;
  return out;
}

/** review-queue's per-question flags. */
export const questionReviewFlags = {
  ...questionFlags,
  labels: { type: 'string' },
  'models-disagree': { type: 'boolean' },
  'max-rating-spread': { type: 'string' },
} as const;

export function questionReviewOptionsOf(values: OptionValues): Record<string, unknown> {
  const out: Record<string, unknown> = { ...questionOptionsOf(values) };
  if (values['models-disagree']) out.modelsDisagree = true;
  const spread = number(values['max-rating-spread'], 'max-rating-spread');
  if (spread !== undefined) out.maxRatingSpread = spread;
  return out;
}
