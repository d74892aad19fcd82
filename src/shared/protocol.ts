// Every message between the extension host and the curation editor's webview, as zod schemas.
// The host `.parse()`s every message it receives from the webview. Requests carry an id; every
// request gets exactly one response with the same id, carrying either a result or an error.
import { z } from 'zod';

// ---------------------------------------------------------------------------------------------
// Payloads

/** A model's (or a person's) proposal for one question of a record (Argilla's "suggestion"). */
export const SuggestionView = z.object({
  question: z.string(),
  value: z.unknown(),
  score: z.number().optional(),
  agent: z.string().optional(),
  type: z.enum(['model', 'human']),
  rationale: z.string().optional(),
  /** Index of this suggestion in the record's list for its question. */
  position: z.number().int().nonnegative(),
  provenance: z
    .object({
      model: z.string().optional(),
      promptHash: z.string().optional(),
      time: z.string().optional(),
      inputTokens: z.number().optional(),
      outputTokens: z.number().optional(),
    })
    .optional(),
});
export type SuggestionView = z.infer<typeof SuggestionView>;

export const JudgeView = z.object({
  score: z.number().optional(),
  scale: z.tuple([z.number(), z.number()]).optional(),
  reasons: z.string().optional(),
  criteria: z.record(z.string(), z.number()).optional(),
  /** The scale of the per-criterion scores when it differs from the overall score's. */
  criteriaScale: z.tuple([z.number(), z.number()]).optional(),
  model: z.string().optional(),
});
export type JudgeView = z.infer<typeof JudgeView>;

/** The annotation of a record, normalized from whatever field layout the file uses. */
export const AnnotationView = z.object({
  /** The record's current label (the human's decision when there is one). */
  label: z.string().optional(),
  rationale: z.string().optional(),
  judge: JudgeView.optional(),
  suggestions: z.array(SuggestionView),
  human: z
    .object({ value: z.unknown(), user: z.string().optional(), status: z.string().optional(), time: z.string().optional() })
    .optional(),
  /** pending | reviewed | rejected | ... */
  reviewStatus: z.string().optional(),
});
export type AnnotationView = z.infer<typeof AnnotationView>;

/** One logical line of a dataset, as the webview shows it. */
export const RecordPayload = z.object({
  /** 0-based logical index. */
  index: z.number().int().nonnegative(),
  /** 1-based line number, as editors show it. */
  lineNumber: z.number().int().positive(),
  /** The line's text without its terminator (invalid UTF-8 shown with replacement characters). */
  raw: z.string(),
  /** The parsed record, when the line is a valid JSON object. */
  value: z.record(z.string(), z.unknown()).optional(),
  /** Why the line is not a valid record. */
  invalid: z.object({ reason: z.string() }).optional(),
  /** Why a structured edit of this record would lose information (raw edits are still allowed). */
  lossy: z.object({ reason: z.string() }).optional(),
  /** The annotation, when the record is valid. */
  annotation: AnnotationView.optional(),
  /** The record's top-level keys that hold the annotation (shown in the panel, not as fields). */
  annotationFields: z.array(z.string()).optional(),
  edited: z.boolean(),
});
export type RecordPayload = z.infer<typeof RecordPayload>;

export const DocumentInfo = z.object({
  fileName: z.string(),
  lineCount: z.number().int().nonnegative(),
  /** False while the file is still being indexed: lineCount grows. */
  indexed: z.boolean(),
  /** The label set: from settings, else inferred from the file's labels. Keys 1..9 pick these. */
  labels: z.array(z.string()).default([]),
  dirty: z.boolean().default(false),
  /** Field names the list mode offers as columns. */
  columns: z.array(z.string()).default([]),
});
export type DocumentInfo = z.infer<typeof DocumentInfo>;

/** One row of the list mode. */
export const RowPayload = z.object({
  index: z.number().int().nonnegative(),
  lineNumber: z.number().int().positive(),
  /** One cell per requested column, as short single-line text. */
  cells: z.array(z.string()),
  label: z.string().optional(),
  score: z.number().optional(),
  reviewStatus: z.string().optional(),
  invalid: z.boolean(),
});
export type RowPayload = z.infer<typeof RowPayload>;

/** What a search or filter matches; every part given must match. */
export const SearchQuery = z.object({
  text: z.string().max(1000).optional(),
  /** Case-sensitive regular expression instead of plain text. */
  regex: z.boolean().optional(),
  label: z.string().optional(),
  minScore: z.number().optional(),
  maxScore: z.number().optional(),
  reviewStatus: z.string().optional(),
  invalid: z.boolean().optional(),
});
export type SearchQuery = z.infer<typeof SearchQuery>;

/** How far the search for a query's matches has got. */
export const MatchProgress = z.object({
  /** Matches found so far (all of them once done). */
  count: z.number().int().nonnegative(),
  scanned: z.number().int().nonnegative(),
  lineCount: z.number().int().nonnegative(),
  done: z.boolean(),
});
export type MatchProgress = z.infer<typeof MatchProgress>;

export const StatsPayload = z.object({
  records: z.number().int(),
  invalid: z.number().int(),
  labels: z.record(z.string(), z.number().int()),
  /** Judge score histogram: one bucket per integer score (or per tenth on a 0..1 scale). */
  scoreHistogram: z.array(z.object({ bucket: z.string(), count: z.number().int() })),
  meanScore: z.number().optional(),
  annotatedShare: z.number(),
  reviewedShare: z.number(),
});
export type StatsPayload = z.infer<typeof StatsPayload>;

/** An edit the user makes in the webview. The host applies it through VS Code's undo stack. */
export const EditRequest = z.discriminatedUnion('op', [
  /** Set the human's label (kept beside the model's suggestion, never over it). */
  z.object({ op: z.literal('relabel'), index: z.number().int().nonnegative(), label: z.string().min(1) }),
  /** Accept a model suggestion as the human's decision. */
  z.object({ op: z.literal('accept'), index: z.number().int().nonnegative(), question: z.string().default('label'), position: z.number().int().nonnegative().default(0) }),
  /** Reject the model's suggestion: the record is marked rejected and keeps its suggestion. */
  z.object({ op: z.literal('reject'), index: z.number().int().nonnegative(), question: z.string().default('label') }),
  /** Set one field (path of keys and array indices) to a JSON value. */
  z.object({
    op: z.literal('setField'),
    index: z.number().int().nonnegative(),
    path: z.array(z.union([z.string(), z.number().int().nonnegative()])).min(1),
    value: z.unknown(),
  }),
  /** Replace the whole line with new text (valid JSON or not: the user's call). */
  z.object({ op: z.literal('replaceRaw'), index: z.number().int().nonnegative(), raw: z.string() }),
  z.object({ op: z.literal('setReviewStatus'), index: z.number().int().nonnegative(), status: z.string().min(1) }),
]);
export type EditRequest = z.infer<typeof EditRequest>;

// ---------------------------------------------------------------------------------------------
// Requests from the webview, each with its params and result schema.

export const requests = {
  getInfo: {
    params: z.object({}),
    result: DocumentInfo,
  },
  getRecord: {
    params: z.object({ index: z.number().int().nonnegative() }),
    result: RecordPayload,
  },
  getRows: {
    params: z.object({
      start: z.number().int().nonnegative(),
      count: z.number().int().positive().max(500),
      columns: z.array(z.string()).max(20),
    }),
    result: z.array(RowPayload),
  },
  /** Finds matching records from `from` in `direction`, scanning at most `limit` matches. */
  search: {
    params: z.object({
      query: SearchQuery,
      from: z.number().int().nonnegative().default(0),
      direction: z.enum(['forward', 'backward']).default('forward'),
      limit: z.number().int().positive().max(100_000).default(1000),
    }),
    result: z.object({
      matches: z.array(z.number().int().nonnegative()),
      /** Matches in the whole file, when the scan covered it. */
      total: z.number().int().optional(),
    }),
  },
  /** Rows of the records matching a query, by position among the matches (list mode, "only matches"). */
  getMatchRows: {
    params: z.object({
      query: SearchQuery,
      start: z.number().int().nonnegative(),
      count: z.number().int().positive().max(500),
      columns: z.array(z.string()).max(20),
    }),
    result: MatchProgress.extend({ rows: z.array(RowPayload) }),
  },
  /** The position among a query's matches of the first match at or after record `index`. */
  matchPosition: {
    params: z.object({
      query: SearchQuery,
      index: z.number().int().nonnegative(),
      /** Wait until that match is found (else answer with what is known now). */
      wait: z.boolean().default(false),
    }),
    result: MatchProgress.extend({ position: z.number().int().nonnegative(), exact: z.boolean() }),
  },
  edit: {
    params: EditRequest,
    result: RecordPayload,
  },
  getStats: {
    params: z.object({}),
    result: StatsPayload,
  },
} as const;

export type RequestMethod = keyof typeof requests;
export type RequestParams<M extends RequestMethod> = z.input<(typeof requests)[M]['params']>;
export type ParsedParams<M extends RequestMethod> = z.output<(typeof requests)[M]['params']>;
export type RequestResult<M extends RequestMethod> = z.infer<(typeof requests)[M]['result']>;

const requestMethods = Object.keys(requests) as [RequestMethod, ...RequestMethod[]];

// ---------------------------------------------------------------------------------------------
// Webview -> host

export const WebviewRequest = z.object({
  kind: z.literal('request'),
  id: z.number().int().nonnegative(),
  method: z.enum(requestMethods),
  params: z.unknown(),
});

export const WebviewNotification = z.discriminatedUnion('type', [
  /** The webview is up; `index` is the record it will show (its saved state's), which init carries. */
  z.object({ kind: z.literal('notify'), type: z.literal('ready'), index: z.number().int().nonnegative().optional() }),
  /** The list mode's columns changed (the host remembers them per file). */
  z.object({ kind: z.literal('notify'), type: z.literal('columns'), columns: z.array(z.string().max(200)).max(20) }),
  /** The record the user is looking at (commands such as "Label This Record" act on it). */
  z.object({ kind: z.literal('notify'), type: z.literal('current'), index: z.number().int().nonnegative() }),
  z.object({
    kind: z.literal('notify'),
    type: z.literal('log'),
    level: z.enum(['info', 'warn', 'error']),
    message: z.string().max(10_000),
  }),
]);

export const FromWebview = z.union([WebviewRequest, WebviewNotification]);
export type FromWebview = z.infer<typeof FromWebview>;
export type WebviewRequest = z.infer<typeof WebviewRequest>;

// ---------------------------------------------------------------------------------------------
// Host -> webview

export const ResponseError = z.object({ message: z.string(), code: z.string().optional() });
export type ResponseError = z.infer<typeof ResponseError>;

export const HostResponse = z.union([
  z.object({ kind: z.literal('response'), id: z.number().int(), ok: z.literal(true), result: z.unknown() }),
  z.object({ kind: z.literal('response'), id: z.number().int(), ok: z.literal(false), error: ResponseError }),
]);

export const HostEvent = z.discriminatedUnion('type', [
  z.object({
    kind: z.literal('event'),
    type: z.literal('init'),
    info: DocumentInfo,
    /** The record to show first, so that the first paint needs no round trip. */
    record: RecordPayload.optional(),
    /** The list mode's columns last chosen for this file. */
    listColumns: z.array(z.string()).max(20).optional(),
  }),
  /** The document changed (edit, undo, redo, revert, reload, indexing progress): re-fetch. */
  z.object({
    kind: z.literal('event'),
    type: z.literal('changed'),
    info: DocumentInfo,
    /** The record to show, when the change has one (undo/redo go back to the edited record). */
    focus: z.number().int().nonnegative().optional(),
  }),
]);

export const ToWebview = z.union([HostResponse, HostEvent]);
export type ToWebview = z.infer<typeof ToWebview>;
export type HostEvent = z.infer<typeof HostEvent>;

/** Parses a request's params against its method's schema. Throws a ZodError on bad input. */
export function parseParams<M extends RequestMethod>(method: M, params: unknown): ParsedParams<M> {
  return requests[method].params.parse(params) as ParsedParams<M>;
}
