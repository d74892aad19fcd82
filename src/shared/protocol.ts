// Every message between the extension host and the curation editor's webview, as zod schemas.
// The host `.parse()`s every message it receives from the webview. Requests carry an id; every
// request gets exactly one response with the same id, carrying either a result or an error.
import { z } from 'zod';

// ---------------------------------------------------------------------------------------------
// Payloads

// The domain's views (annotation, record, row, document info, search query, edit) are the core's:
// src/core/session/views.ts. Re-exported here, so that both sides import the protocol from one place.
export {
  AnnotationEdit,
  AnnotationView,
  DocumentInfo,
  EditRequest,
  JudgeAgreementView,
  JudgeView,
  MatchProgress,
  OriginView,
  PreferenceSide,
  PreferenceView,
  ProvenanceView,
  QuestionAnswersView,
  QuestionEdit,
  RecordPayload,
  RowPayload,
  SearchQuery,
  StatsPayload,
  SuggestionView,
} from '../core/session/views';
import {
  DocumentInfo,
  EditRequest,
  MatchProgress,
  RecordPayload,
  RowPayload,
  SearchQuery,
  StatsPayload,
} from '../core/session/views';

/** The curation editor's views. */
export const ViewMode = z.enum(['record', 'list', 'stats', 'agreement', 'duplicates']);
export type ViewMode = z.infer<typeof ViewMode>;

const share = z.number().nullable();

/** Accuracy, Cohen's kappa, per-label P/R/F1 and the confusion matrix of one comparison (core: ClassificationMetrics). */
export const ClassificationPayload = z.object({
  n: z.number().int().nonnegative(),
  accuracy: share,
  expectedAgreement: share,
  kappa: share,
  labels: z.array(z.string()),
  /** confusion[i][j]: reference labels[i], prediction labels[j]. */
  confusion: z.array(z.array(z.number().int().nonnegative())),
  perLabel: z.array(
    z.object({
      label: z.string(),
      precision: z.number(),
      recall: z.number(),
      f1: z.number(),
      support: z.number().int().nonnegative(),
    }),
  ),
  macroF1: share,
  microF1: share,
});
export type ClassificationPayload = z.infer<typeof ClassificationPayload>;

export const AgreementPayload = z.object({
  question: z.string(),
  goldField: z.string().optional(),
  /** Valid records counted. */
  records: z.number().int().nonnegative(),
  comparisons: z.array(
    z.object({
      /** human | suggestion | label | field:PATH */
      reference: z.string(),
      prediction: z.string(),
      /** Records without a label on one side or both. */
      missing: z.number().int().nonnegative(),
      metrics: ClassificationPayload,
    }),
  ),
  /** Between judges (judges[]): correlation and agreement. */
  judges: z
    .object({
      raters: z.array(z.string()),
      records: z.number().int().nonnegative(),
      pairs: z.array(
        z.object({
          a: z.string(),
          b: z.string(),
          n: z.number().int().nonnegative(),
          pearson: share,
          spearman: share,
          meanAbsoluteDifference: share,
        }),
      ),
      alpha: share,
    })
    .optional(),
  /** Between people (each person's submitted decision, by user; core: AnnotatorsReport, as `curate annotators`). */
  people: z
    .object({
      people: z.array(z.object({ user: z.string(), decided: z.number().int().nonnegative() })),
      shared: z.number().int().nonnegative(),
      disagreements: z.number().int().nonnegative(),
      pairs: z.array(
        z.object({
          a: z.string(),
          b: z.string(),
          n: z.number().int().nonnegative(),
          accuracy: share,
          kappa: share,
        }),
      ),
      fleissKappa: share,
      krippendorffAlpha: share,
    })
    .optional(),
});
export type AgreementPayload = z.infer<typeof AgreementPayload>;

/** How to look for duplicates (the core's dedup options, as the editor offers them). */
export const DuplicateSearch = z.object({
  method: z.enum(['exact', 'near', 'semantic']),
  /** The field compared (default: the first of text, messages, conversations, prompt, instruction, input, question). */
  field: z.string().max(200).optional(),
  /** near: estimated Jaccard; semantic: cosine. */
  threshold: z.number().gt(0).max(1).optional(),
  stripPunctuation: z.boolean().optional(),
  shingle: z.enum(['words', 'chars']).optional(),
  shingleSize: z.number().int().min(1).max(64).optional(),
  /** semantic: the embeddings model (default: the datasetCurator.llm.embeddingModel setting). */
  embeddingModel: z.string().max(200).optional(),
  keep: z.enum(['first', 'highest-score']).optional(),
});
export type DuplicateSearch = z.infer<typeof DuplicateSearch>;

export const DuplicateMember = z.object({
  index: z.number().int().nonnegative(),
  lineNumber: z.number().int().positive(),
  /** The compared text (shortened). */
  text: z.string(),
  label: z.string().optional(),
  score: z.number().optional(),
  tags: z.array(z.string()),
  invalid: z.boolean().optional(),
});
export type DuplicateMember = z.infer<typeof DuplicateMember>;

export const DuplicateClusterPayload = z.object({
  id: z.number().int().nonnegative(),
  kind: z.enum(['exact', 'near', 'semantic']),
  /** exact 1; near the smallest estimated Jaccard with the kept member; semantic the smallest cosine. */
  similarity: z.number(),
  /** The member kept by default (the core's keep policy). */
  representative: z.number().int().nonnegative(),
  members: z.array(DuplicateMember),
  /** Every member but one carries the duplicate tag. */
  resolved: z.boolean(),
});
export type DuplicateClusterPayload = z.infer<typeof DuplicateClusterPayload>;

export const DuplicatesPayload = z.object({
  search: DuplicateSearch,
  /** What was searched, in words ("near-duplicates of text, Jaccard >= 0.8"). */
  description: z.string(),
  /** Records compared. */
  searched: z.number().int().nonnegative(),
  clusters: z.number().int().nonnegative(),
  /** Records in clusters, and those that would go (all members but one per cluster). */
  records: z.number().int().nonnegative(),
  extra: z.number().int().nonnegative(),
  resolved: z.number().int().nonnegative(),
  /** The tag the "tag the others" action adds. */
  tag: z.string(),
  offset: z.number().int().nonnegative(),
  page: z.array(DuplicateClusterPayload),
  /** The file changed (lines inserted or deleted) while it was searched: find again. */
  stale: z.boolean(),
});
export type DuplicatesPayload = z.infer<typeof DuplicatesPayload>;

export const QueuePayload = z.object({
  /** False when the count was not made (a big file not counted yet: asked with ifCheap). */
  counted: z.boolean(),
  /** Records waiting in review queues. */
  total: z.number().int().nonnegative(),
  queues: z.array(z.object({ queue: z.string(), count: z.number().int().nonnegative() })),
});
export type QueuePayload = z.infer<typeof QueuePayload>;

/**
 * The document's content generation: 0 when opened, one more at each revert (File: Revert File, a
 * save conflict's Revert) and each reload from disk, when the content was replaced rather than
 * edited. Edits, undo, redo and saves leave it as it is.
 */
export const Generation = z.number().int().nonnegative();

/** An edit as the page's views make it; the page adds the generation when it sends it. */
export type EditIntent = z.input<typeof EditRequest>;

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
  /**
   * An edit of the record; `generation` is the document's content generation the page had when the
   * person made it (init and changed carry it): an edit made before a revert or a reload from disk
   * is refused (code `stale`), so that what was typed then never lands on the reverted content.
   */
  edit: {
    params: EditRequest.and(z.object({ generation: Generation })),
    result: RecordPayload,
  },
  getStats: {
    params: z.object({}),
    result: StatsPayload,
  },
  /** The agreement report, live: model suggestions vs human decisions, optionally against a gold field; between judges; between people. */
  getAgreement: {
    params: z.object({
      question: z.string().min(1).max(200).default('label'),
      goldField: z.string().min(1).max(200).optional(),
    }),
    result: AgreementPayload,
  },
  /** The last duplicate search's clusters, a page at a time (null: none yet). */
  getDuplicates: {
    params: z.object({
      offset: z.number().int().nonnegative().default(0),
      limit: z.number().int().positive().max(200).default(50),
    }),
    result: DuplicatesPayload.nullable(),
  },
  /** Looks for duplicates (progress and cancel in a notification); answers with the first page. */
  findDuplicates: {
    params: DuplicateSearch,
    result: DuplicatesPayload,
  },
  /** Keeps one member of each cluster given (or of every cluster) and tags or deletes the others: one undoable edit. */
  resolveDuplicates: {
    params: z.object({
      clusters: z.union([z.literal('all'), z.array(z.number().int().nonnegative()).min(1).max(100_000)]),
      /** Cluster id -> the record kept, when not the representative. */
      keep: z.record(z.string().regex(/^\d+$/), z.number().int().nonnegative()).default({}),
      action: z.enum(['tag', 'delete']),
    }),
    result: z.object({ changed: z.number().int().nonnegative(), message: z.string() }),
  },
  /** Records waiting in review queues; `ifCheap`: not when that means counting a big file first. */
  getQueue: {
    params: z.object({ ifCheap: z.boolean().default(false) }),
    result: QueuePayload,
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
  /** The page is on screen: the host may start work that would compete with it for the CPU (indexing the rest of a large file). */
  z.object({ kind: z.literal('notify'), type: z.literal('shown') }),
  /** The list mode's columns changed (the host remembers them per file). */
  z.object({ kind: z.literal('notify'), type: z.literal('columns'), columns: z.array(z.string().max(200)).max(20) }),
  /** The record the user is looking at (commands such as "Label This Record" act on it). */
  z.object({ kind: z.literal('notify'), type: z.literal('current'), index: z.number().int().nonnegative() }),
  /** The view the user is looking at. */
  z.object({ kind: z.literal('notify'), type: z.literal('mode'), mode: ViewMode }),
  /** The page's answer to the host's `flush`: every typed input it had is sent (as edits, before this). */
  z.object({ kind: z.literal('notify'), type: z.literal('flushed'), id: z.number().int().nonnegative() }),
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

/** The editor's key overrides: an action's id and its one key, or "" for none (keys.ts in the page). */
export const EditorKeys = z.record(z.string().max(40), z.string().max(8));

export const HostEvent = z.discriminatedUnion('type', [
  z.object({
    kind: z.literal('event'),
    type: z.literal('init'),
    info: DocumentInfo,
    /** The content's generation (see Generation): the page's edits carry it. */
    generation: Generation,
    /** The record to show first, so that the first paint needs no round trip. */
    record: RecordPayload.optional(),
    /** The list mode's columns last chosen for this file. */
    listColumns: z.array(z.string()).max(20).optional(),
    /** The key map's overrides (datasetCurator.editor.keys): action -> key, "" for off. */
    keys: EditorKeys.optional(),
  }),
  /**
   * The document changed (edit, undo, redo, revert, reload, indexing progress): re-fetch. A new
   * `generation` means the content was reverted or reloaded: the page drops what is typed and not
   * yet sent (a text answer, a field edited in place, the raw-JSON dialog).
   */
  z.object({
    kind: z.literal('event'),
    type: z.literal('changed'),
    info: DocumentInfo,
    generation: Generation,
    /** The record to show, when the change has one (undo/redo go back to the edited record). */
    focus: z.number().int().nonnegative().optional(),
    /** A job's results or the index completing, not the person's doing: cached records are stale, not wrong. */
    background: z.boolean().optional(),
    /** The record this page just edited: it has it (the edit's answer), and no other record changed. */
    edited: z.number().int().nonnegative().optional(),
  }),
  /** The key map's overrides changed (the datasetCurator.editor.keys setting). */
  z.object({ kind: z.literal('event'), type: z.literal('keys'), keys: EditorKeys }),
  /**
   * The host is about to save: the page sends what is typed but not yet sent (a question's text
   * answer, a field being edited) as edits, then answers `flushed` with this id.
   */
  z.object({ kind: z.literal('event'), type: z.literal('flush'), id: z.number().int().nonnegative() }),
  /** A command asks for a view (Show Agreement Report, Find Duplicates…), and optionally a record. */
  z.object({
    kind: z.literal('event'),
    type: z.literal('show'),
    mode: ViewMode,
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
