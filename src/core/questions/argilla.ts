// Questions to and from Argilla 2.x: its dataset settings (`rg.Settings`, as `settings.json` of
// `Dataset.to_disk` and the Hub export carry it) and its records' suggestions and responses.
//
// Sources (argilla-io/argilla, read 2026-12):
//   argilla/src/argilla/settings/_question.py and _models/_settings/_questions/*.py: the question
//     classes and their settings (`type`: label_selection, multi_label_selection, rating, ranking,
//     text, span; `options: [{value, text, description}]`, rating `options: [{value}]`,
//     `visible_options`, `options_order`, span `field` and `allow_overlapping`, text `use_markdown`);
//   argilla-server/src/argilla_server/api/schemas/v1/questions.py: the limits (names
//     ^(?=.*[a-z0-9])[a-z0-9_-]+$; ratings 0..10, 2 to 11 options; rankings 2 to 50 options);
//   argilla-server/src/argilla_server/validators/response_values.py: the values the server takes
//     (multi-label: a non-empty list of unique labels; ranking: [{value, rank}]; span: [{label,
//     start, end}] with character offsets into the field, no overlap unless allowed);
//   argilla/tests/unit/test_io/test_hf_datasets.py (test_to_datasets_with_partial_values_in_records):
//     the SDK's record values, as to_dict() and the Hub export carry them (rating 1; ranking
//     ["value1", "value2"], best first; spans [{start, end, label}]);
//   argilla/src/argilla/_models/_record/_suggestion.py: a suggestion's `score` is a float or a list
//     of floats (one per value: our multi-label per-label confidences).
import { z } from 'zod';
import { defaultFields, type FieldMap } from '../schema/annotation';
import { answersOf } from './layout';
import { candidateIds, Question, type QuestionInput, type SpanValue } from './schema';
import { checkAnswer, rankingCandidates, ranksOf } from './values';

type Rec = Record<string, unknown>;

const ArgillaOption = z.looseObject({
  value: z.union([z.string(), z.number()]),
  text: z.string().nullish(),
  description: z.string().nullish(),
});

/** One question as Argilla's settings serialize it (extra keys such as id, inserted_at are ignored). */
export const ArgillaQuestion = z.looseObject({
  name: z.string().min(1),
  title: z.string().nullish(),
  description: z.string().nullish(),
  required: z.boolean().nullish(),
  settings: z.looseObject({
    type: z.enum(['label_selection', 'multi_label_selection', 'rating', 'ranking', 'text', 'span']),
    options: z.array(ArgillaOption).nullish(),
    visible_options: z.number().nullish(),
    options_order: z.string().nullish(),
    use_markdown: z.boolean().nullish(),
    field: z.string().nullish(),
    allow_overlapping: z.boolean().nullish(),
  }),
});
export type ArgillaQuestion = z.infer<typeof ArgillaQuestion>;

export const ArgillaSettings = z.looseObject({
  guidelines: z.string().nullish(),
  questions: z.array(ArgillaQuestion).default([]),
  fields: z.array(z.looseObject({ name: z.string() })).default([]),
});

export interface ArgillaSettingsOut {
  guidelines: string | null;
  allow_extra_metadata: boolean;
  fields: { name: string; title: string; required: boolean; settings: { type: 'text'; use_markdown: boolean } }[];
  questions: {
    name: string;
    title: string;
    description: string | null;
    required: boolean;
    settings: Record<string, unknown>;
  }[];
  metadata: unknown[];
  vectors: unknown[];
}

/** Argilla's question names: lower case, letters, digits, _ and -. */
export function argillaName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_-]/g, '_');
}

function options(labels: readonly string[], info?: Record<string, { text?: string; description?: string }>): Rec[] {
  return labels.map((l) => {
    const about = info?.[l];
    return { value: l, text: about?.text ?? l, ...(about?.description ? { description: about.description } : {}) };
  });
}

/**
 * Argilla 2.x settings for a dataset's questions. `fields`: the record's text fields to show (span
 * questions' fields are added); `rankingSizes`: the number of candidates of a ranking over a list
 * field (Argilla's options are fixed), e.g. the longest list in the data. What Argilla cannot hold
 * (a rating outside 0..10, a ranking without a size) is listed in `problems` and left out.
 */
export function toArgillaSettings(
  questions: readonly Question[],
  opts: { fields?: readonly string[]; rankingSizes?: Readonly<Record<string, number>>; guidelines?: string } = {},
): { settings: ArgillaSettingsOut; problems: string[] } {
  const problems: string[] = [];
  const out: ArgillaSettingsOut['questions'] = [];
  const names = new Set<string>();
  const fieldNames = new Set(opts.fields ?? []);
  const guidelines: string[] = opts.guidelines ? [opts.guidelines] : [];
  for (const q of questions) {
    const name = argillaName(q.name);
    if (names.has(name)) {
      problems.push(`${q.name}: Argilla would name it "${name}", as another question`);
      continue;
    }
    let settings: Record<string, unknown>;
    switch (q.type) {
      case 'label':
        settings = { type: 'label_selection', options: options(q.labels, q.labelInfo), visible_options: null };
        break;
      case 'multi-label':
        settings = {
          type: 'multi_label_selection',
          options: options(q.labels, q.labelInfo),
          visible_options: null,
          options_order: 'natural',
        };
        break;
      case 'rating': {
        if (q.min < 0 || q.max > 10) {
          problems.push(`${q.name}: Argilla's ratings go from 0 to 10, not ${q.min}-${q.max}`);
          continue;
        }
        const values: Rec[] = [];
        for (let v = q.min; v <= q.max; v++) values.push({ value: v });
        settings = { type: 'rating', options: values };
        break;
      }
      case 'ranking': {
        const n = q.field === undefined ? (q.options?.length ?? 0) : (opts.rankingSizes?.[q.name] ?? q.options?.length);
        if (!n || n < 2) {
          problems.push(`${q.name}: Argilla needs the number of candidates of a ranking (none in the data)`);
          continue;
        }
        if (q.field === undefined) for (const o of q.options ?? []) fieldNames.add(o);
        settings = { type: 'ranking', options: options(candidateIds(q, n)) };
        break;
      }
      case 'text':
        settings = { type: 'text', use_markdown: q.useMarkdown };
        break;
      case 'span':
        fieldNames.add(q.field);
        settings = {
          type: 'span',
          field: q.field,
          options: options(q.labels, q.labelInfo),
          visible_options: null,
          allow_overlapping: q.allowOverlapping,
        };
        break;
    }
    names.add(name);
    out.push({ name, title: q.title ?? q.name, description: q.description ?? null, required: q.required, settings });
    if (q.guidelines) guidelines.push(`## ${q.title ?? q.name}\n\n${q.guidelines}`);
  }
  return {
    settings: {
      guidelines: guidelines.length ? guidelines.join('\n\n') : null,
      allow_extra_metadata: true,
      fields: [...fieldNames].map((f) => ({
        name: f,
        title: f,
        required: true,
        settings: { type: 'text', use_markdown: false },
      })),
      questions: out,
      metadata: [],
      vectors: [],
    },
    problems,
  };
}

const optionLabels = (o: ArgillaQuestion['settings']['options']): string[] => (o ?? []).map((x) => String(x.value));
function optionInfo(
  o: ArgillaQuestion['settings']['options'],
): Record<string, { text?: string; description?: string }> | undefined {
  const info: Record<string, { text?: string; description?: string }> = {};
  for (const x of o ?? []) {
    const e: { text?: string; description?: string } = {};
    if (x.text && x.text !== String(x.value)) e.text = x.text;
    if (x.description) e.description = x.description;
    if (Object.keys(e).length) info[String(x.value)] = e;
  }
  return Object.keys(info).length ? info : undefined;
}

/**
 * Questions from Argilla 2.x settings (a `settings.json`, or `Settings.serialize()`): every
 * question it can hold (problems: the ones it cannot, with the reason). A ranking ranks the
 * record's fields its options name, as Argilla's does.
 */
export function fromArgillaSettings(raw: unknown): { questions: Question[]; problems: string[] } {
  const s = ArgillaSettings.parse(raw);
  const questions: Question[] = [];
  const problems: string[] = [];
  for (const a of s.questions) {
    const base = {
      name: a.name,
      ...(a.title && a.title !== a.name ? { title: a.title } : {}),
      ...(a.description ? { description: a.description } : {}),
      required: a.required ?? true,
    };
    let input: QuestionInput;
    const st = a.settings;
    switch (st.type) {
      case 'label_selection':
      case 'multi_label_selection': {
        const info = optionInfo(st.options);
        input = {
          ...base,
          type: st.type === 'label_selection' ? 'label' : 'multi-label',
          labels: optionLabels(st.options),
          ...(info ? { labelInfo: info } : {}),
        };
        break;
      }
      case 'rating': {
        const values = (st.options ?? []).map((o) => Number(o.value)).sort((x, y) => x - y);
        const contiguous = values.every((v, i) => i === 0 || v === (values[i - 1] as number) + 1);
        if (values.length < 2 || !contiguous) {
          problems.push(`${a.name}: a rating with the values ${values.join(', ')} is not a scale from min to max`);
          continue;
        }
        input = { ...base, type: 'rating', min: values[0] as number, max: values[values.length - 1] as number };
        break;
      }
      case 'ranking':
        input = { ...base, type: 'ranking', options: optionLabels(st.options) };
        break;
      case 'text':
        input = { ...base, type: 'text', useMarkdown: st.use_markdown ?? false };
        break;
      case 'span': {
        if (!st.field) {
          problems.push(`${a.name}: a span question without its field`);
          continue;
        }
        const info = optionInfo(st.options);
        input = {
          ...base,
          type: 'span',
          field: st.field,
          labels: optionLabels(st.options),
          allowOverlapping: st.allow_overlapping ?? false,
          ...(info ? { labelInfo: info } : {}),
        };
        break;
      }
    }
    const p = Question.safeParse(input);
    if (p.success) questions.push(p.data);
    else problems.push(`${a.name}: ${z.prettifyError(p.error)}`);
  }
  if (s.guidelines && questions.length > 0 && !questions.some((q) => q.guidelines)) {
    // Argilla's guidelines are the dataset's; they go to the first question (shown with every question in the editor).
    questions[0] = { ...(questions[0] as Question), guidelines: s.guidelines };
  }
  return { questions, problems };
}

// ---------------------------------------------------------------------------------------------
// Values

/**
 * A value in the form of Argilla's records (`Record.to_dict()`, the Hub columns): spans
 * `{start, end, label}` without their text; a ranking as its option values, best first (equal
 * ranks in the declaration's order: the SDK's list cannot say they tie). Argilla's server API
 * takes a ranking as [{value, rank}]; both forms are read back.
 */
export function toArgillaValue(q: Question, value: unknown): unknown {
  if (q.type === 'span' && Array.isArray(value))
    return (value as SpanValue[]).map((s) => ({ start: s.start, end: s.end, label: s.label }));
  if (q.type === 'ranking') {
    const m = ranksOf(value);
    return m ? [...m].sort((a, b) => a[1] - b[1]).map(([v]) => v) : value;
  }
  return value;
}

export interface ArgillaValues {
  /** Argilla 2.x `Record.to_dict()`'s suggestions: one per question (the top model suggestion). */
  suggestions: Record<string, { value: unknown; score: number | number[] | null; agent: string | null }>;
  /** ... and responses: per question, the person's answer. */
  responses: Record<string, { value: unknown; user_id: string | null }[]>;
}

/**
 * A record's answers to its questions in Argilla 2.x's record layout (`Record.to_dict()`):
 * suggestions and responses keyed by question name. Answers that do not fit their question (a
 * span no longer at its text) are left out, as Argilla would refuse them; a multi-label
 * suggestion's score is the list of its labels' confidences; an empty multi-label answer (which
 * Argilla refuses) is left out too.
 */
export function toArgillaValues(
  record: Rec,
  questions: readonly Question[],
  fields: FieldMap = defaultFields,
): ArgillaValues {
  const out: ArgillaValues = { suggestions: {}, responses: {} };
  for (const q of questions) {
    const name = argillaName(q.name);
    const a = answersOf(record, q, fields);
    const empty = (v: unknown) => q.type === 'multi-label' && Array.isArray(v) && v.length === 0;
    const top = a.suggestions
      .filter((s) => s.type === 'model' && !s.problem)
      .sort((x, y) => (y.score ?? -1) - (x.score ?? -1))[0];
    if (top && !empty(top.value)) {
      const perLabel =
        q.type === 'multi-label' && top.labelScores
          ? (top.value as string[]).map((l) => top.labelScores?.[l] ?? null)
          : undefined;
      const score =
        perLabel && perLabel.every((x): x is number => typeof x === 'number') ? perLabel : (top.score ?? null);
      out.suggestions[name] = { value: toArgillaValue(q, top.value), score, agent: top.agent ?? null };
    }
    if (a.human && a.human.status === 'submitted' && !a.human.problem && !empty(a.human.value)) {
      out.responses[name] = [{ value: toArgillaValue(q, a.human.value), user_id: a.human.user ?? null }];
    }
  }
  return out;
}

/**
 * The annotation layout's annotations from Argilla 2.x values (`Record.to_dict()`'s suggestions and
 * responses; the list forms of 1.x/2.0 exports too): per question, a suggestion and the person's
 * answer, checked against the question and the record (spans get the text they cover). Values
 * that do not fit are returned in `problems`, not imported.
 */
export function fromArgillaValues(
  record: Rec,
  raw: { suggestions?: unknown; responses?: unknown },
  questions: readonly Question[],
): { suggestions: Record<string, Rec[]>; human: Record<string, Rec>; problems: string[] } {
  const byName = new Map(questions.map((q) => [argillaName(q.name), q]));
  const out = { suggestions: {} as Record<string, Rec[]>, human: {} as Record<string, Rec>, problems: [] as string[] };
  const entries = (v: unknown, key: 'suggestion' | 'response'): [string, Rec][] => {
    if (Array.isArray(v))
      return v
        .filter((x): x is Rec => !!x && typeof x === 'object' && typeof (x as Rec).question_name === 'string')
        .map((x) => [x.question_name as string, x]);
    if (v && typeof v === 'object') {
      return Object.entries(v as Rec).flatMap(([k, x]): [string, Rec][] =>
        key === 'response' && Array.isArray(x)
          ? x.filter((y): y is Rec => !!y && typeof y === 'object').map((y) => [k, y])
          : x && typeof x === 'object'
            ? [[k, x as Rec]]
            : [],
      );
    }
    return [];
  };
  // Argilla's spans carry no text: checkAnswer adds it from the record (and refuses a span past its end).
  const check = (q: Question, value: unknown) => checkAnswer(q, value, record);
  for (const [name, s] of entries(raw.suggestions, 'suggestion')) {
    const q = byName.get(name);
    if (!q) continue;
    const c = check(q, s.value);
    if (!c.ok) {
      out.problems.push(`${name} suggestion: ${c.reason}`);
      continue;
    }
    const score = Array.isArray(s.score) ? undefined : typeof s.score === 'number' ? s.score : undefined;
    const labelScores =
      q.type === 'multi-label' && Array.isArray(s.score) && Array.isArray(s.value)
        ? Object.fromEntries(
            (s.value as string[])
              .map((l, i): [string, unknown] => [l, (s.score as unknown[])[i]])
              .filter((e): e is [string, number] => typeof e[1] === 'number'),
          )
        : undefined;
    out.suggestions[q.name] = [
      {
        value: c.value,
        ...(score !== undefined
          ? { score }
          : labelScores && Object.keys(labelScores).length
            ? { score: Math.min(...Object.values(labelScores)) }
            : {}),
        ...(labelScores && Object.keys(labelScores).length ? { label_scores: labelScores } : {}),
        ...(typeof s.agent === 'string' ? { agent: s.agent } : {}),
        type: s.type === 'human' ? 'human' : 'model',
      },
    ];
  }
  for (const [name, r] of entries(raw.responses, 'response')) {
    const q = byName.get(name);
    if (!q || out.human[q.name]) continue;
    const c = check(q, r.value);
    if (!c.ok) {
      out.problems.push(`${name} response: ${c.reason}`);
      continue;
    }
    const status = r.status === 'draft' || r.status === 'discarded' ? r.status : 'submitted';
    out.human[q.name] = { value: c.value, ...(typeof r.user_id === 'string' ? { user: r.user_id } : {}), status };
  }
  return out;
}

/** The longest candidate list of each ranking question over a list field, for toArgillaSettings' rankingSizes. */
export function rankingSizesOf(records: Iterable<Rec>, questions: readonly Question[]): Record<string, number> {
  const sizes: Record<string, number> = {};
  for (const r of records) {
    for (const q of questions) {
      if (q.type !== 'ranking' || q.field === undefined) continue;
      const c = rankingCandidates(r, q);
      if (c) sizes[q.name] = Math.max(sizes[q.name] ?? 0, c.length);
    }
  }
  return sizes;
}

/**
 * A record's answers as Argilla's flat Hub columns (`Dataset.to_hub` / `to_datasets`):
 * `<q>.suggestion`, `<q>.suggestion.score`, `<q>.suggestion.agent`, `<q>.responses`,
 * `<q>.responses.users`, `<q>.responses.status`, one set per question (null where there is none).
 */
export function toFlatColumns(
  record: Rec,
  questions: readonly Question[],
  fields: FieldMap = defaultFields,
): Record<string, unknown> {
  const v = toArgillaValues(record, questions, fields);
  const out: Record<string, unknown> = {};
  for (const q of questions) {
    const name = argillaName(q.name);
    const s = v.suggestions[name];
    const r = v.responses[name] ?? [];
    out[`${name}.suggestion`] = s?.value ?? null;
    out[`${name}.suggestion.score`] = s?.score ?? null;
    out[`${name}.suggestion.agent`] = s?.agent ?? null;
    out[`${name}.responses`] = r.length ? r.map((x) => x.value) : null;
    out[`${name}.responses.users`] = r.length ? r.map((x) => x.user_id) : null;
    out[`${name}.responses.status`] = r.length ? r.map(() => 'submitted') : null;
  }
  return out;
}

/**
 * Puts a dataset's questions into an Argilla 2.x record row made by the generic export
 * (`Record.to_dict()`'s `suggestions: {q: {value, score, agent}}` and `responses: {q: [{value,
 * user_id, status}]}`): each declared question's values in Argilla's form (spans without their
 * text, rankings best first), a multi-label suggestion's score as its labels' confidences, and
 * answers Argilla would refuse left out (listed in `problems`). Other keys are kept as they are.
 * The one call the export needs per record: `argillaRowWithQuestions(row, record, questions)`.
 */
export function argillaRowWithQuestions(
  row: Rec,
  record: Rec,
  questions: readonly Question[],
  fields: FieldMap = defaultFields,
): { row: Rec; problems: string[] } {
  const problems: string[] = [];
  const isRec = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);
  // by question name (a Map: names come from the data, and a plain object's inherited members are not answers)
  const suggestions = new Map(Object.entries(isRec(row.suggestions) ? row.suggestions : {}));
  const responses = new Map(Object.entries(isRec(row.responses) ? row.responses : {}));
  const ours = toArgillaValues(record, questions, fields);
  for (const q of questions) {
    const name = argillaName(q.name);
    // the generic export keys them by our name; Argilla's is the lower-cased one
    const givenSuggestion = suggestions.get(q.name) ?? suggestions.get(name);
    const givenResponses = responses.get(q.name) ?? responses.get(name);
    suggestions.delete(q.name);
    responses.delete(q.name);
    const a = answersOf(record, q, fields);
    const s = ours.suggestions[name];
    if (s) suggestions.set(name, { ...(isRec(givenSuggestion) ? givenSuggestion : {}), ...s });
    else {
      if (a.suggestions.some((x) => x.problem))
        problems.push(`${q.name}: the suggestion does not fit (${a.suggestions.find((x) => x.problem)?.problem})`);
      suggestions.delete(name);
    }
    // every response the row has (several people's, when the record keeps them), each checked and converted
    const given = Array.isArray(givenResponses) ? givenResponses.filter(isRec) : (ours.responses[name] ?? []);
    const converted: Rec[] = [];
    for (const x of given) {
      const c = checkAnswer(q, x.value, record);
      const empty = q.type === 'multi-label' && c.ok && Array.isArray(c.value) && c.value.length === 0;
      if (c.ok && !empty) converted.push({ ...x, value: toArgillaValue(q, c.value) });
      else if (!c.ok) problems.push(`${q.name}: a person's answer does not fit (${c.reason})`);
    }
    if (converted.length) responses.set(name, converted);
    else responses.delete(name);
  }
  return {
    row: { ...row, suggestions: Object.fromEntries(suggestions), responses: Object.fromEntries(responses) },
    problems,
  };
}
