// Argilla 2.x: records as `rg.Record.to_dict()` writes them and `rg.Record.from_dict()` reads them
// (argilla/src/argilla/records/_resource.py), and the flat columns of Argilla's Hugging Face Hub
// export (`GenericIO._record_to_dict(flatten=True)` in argilla/src/argilla/records/_io/_generic.py:
// `<q>.suggestion`, `<q>.suggestion.score`, `<q>.suggestion.agent`, `<q>.responses`,
// `<q>.responses.users`, `<q>.responses.status`). Fixtures: test/fixtures/argilla/README.md.
//
// Our layout keeps one human decision per question (`annotations.human.<q>`); Argilla keeps one
// response per user and question. Every response of a question is kept in
// `annotations.responses.<q>` (a list) when there are several, and the first submitted one (or the
// first) becomes `annotations.human.<q>`. Argilla's user ids are UUIDs: a user name of ours becomes
// a name-based UUID (v5, so the same name gives the same id in every file and run) unless a user map
// names its id; an import maps ids back through the same map.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { getPath, isObject, reviewStatusOf, suggestionsOf, ANNOTATION_KEYS } from '../filter/fields';

const Json: z.ZodType = z.unknown();
const Score = z.union([z.number(), z.array(z.number()), z.null()]);
const Status = z.enum(['draft', 'submitted', 'discarded']);

/** `Record.to_dict()` of Argilla 2.x (what `from_dict` reads back). */
export const ArgillaRow = z.object({
  id: z.string().min(1).nullable(),
  fields: z.record(z.string(), Json),
  metadata: z.record(z.string(), Json).default({}),
  suggestions: z
    .record(
      z.string(),
      z.object({
        value: Json,
        score: Score.optional(),
        agent: z.string().nullable().optional(),
        type: z.enum(['model', 'human']).nullable().optional(),
      }),
    )
    .default({}),
  responses: z
    .record(
      z.string(),
      z.array(
        z.object({ value: Json, user_id: z.string().nullable().optional(), status: Status.nullable().optional() }),
      ),
    )
    .default({}),
  vectors: z.record(z.string(), z.array(z.number())).default({}),
  status: z.enum(['pending', 'completed']).optional(),
  _server_id: z.string().nullable().optional(),
  inserted_at: z.string().nullable().optional(),
  updated_at: z.string().nullable().optional(),
});
export type ArgillaRow = z.output<typeof ArgillaRow>;

/** One row of Argilla's Hub export: a flat object; the question columns are checked by the import. */
export const ArgillaHubRow = z
  .record(z.string(), Json)
  .refine(
    (r) => Object.keys(r).some((k) => /\.(suggestion|responses)$/.test(k)) || 'id' in r,
    'no id and no <question>.suggestion or <question>.responses column',
  );

export type UserMap = Record<string, string>;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** RFC 4122 URL namespace; the name is `dataset-curator:user:<name>`. */
const NAMESPACE = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';

/** A name-based UUID (version 5, RFC 4122). */
export function uuidV5(name: string, namespace = NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const h = createHash('sha1').update(ns).update(name, 'utf8').digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** The user id of a decision that names nobody (Argilla requires one: `Response(user_id=...)`). */
export const ANONYMOUS_USER_ID = uuidV5('dataset-curator:user:(anonymous)');

/** Argilla's user id for one of our user names. */
export function argillaUserId(user: string | undefined, users: UserMap = {}): string {
  if (user === undefined) return ANONYMOUS_USER_ID;
  if (users[user]) return users[user];
  return UUID_RE.test(user) ? user.toLowerCase() : uuidV5(`dataset-curator:user:${user}`);
}

/** Our user name for an Argilla user id (the map's name when it has one). */
export function userOfArgillaId(id: string | null | undefined, users: UserMap = {}): string | undefined {
  if (id === null || id === undefined || id === 'None' || id === ANONYMOUS_USER_ID) return undefined;
  for (const [name, uuid] of Object.entries(users)) if (uuid.toLowerCase() === id.toLowerCase()) return name;
  return id;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const scalar = (x: unknown): boolean =>
  x === null || typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean';

export interface ArgillaOptions {
  idPath: string;
  /** The record fields that become Argilla fields (default: every top-level string or message list). */
  fields?: string[];
  users?: UserMap;
  /** Keep what Argilla has no slot for (label without a person's decision, rationale, judges) under `annotations`. */
  includeAnnotations?: boolean;
}

/**
 * A response's status. Argilla's `Record.to_dict()` leaves it out and `UserResponse` then takes a
 * response as a draft; a record whose status is `completed` has its responses submitted, so a
 * missing status is `submitted` there and `draft` elsewhere. Exports always write it.
 */
const responseStatus = (s: unknown, recordStatus: string | undefined): 'draft' | 'submitted' | 'discarded' =>
  s === 'draft' || s === 'submitted' || s === 'discarded' ? s : recordStatus === 'completed' ? 'submitted' : 'draft';

interface Resp {
  value: unknown;
  user?: string;
  status: 'draft' | 'submitted' | 'discarded';
}

const statusOf = (s: unknown): Resp['status'] => (s === 'draft' || s === 'discarded' ? s : 'submitted');

/** Every person's response per question: `annotations.responses.<q>` when kept, else `annotations.human.<q>`. */
function responsesOf(v: Record<string, unknown>): Map<string, Resp[]> {
  const out = new Map<string, Resp[]>();
  const all = getPath(v, ['annotations', 'responses']);
  const human = getPath(v, ['annotations', 'human']);
  const qs = new Set<string>([
    ...(isObject(all) ? Object.keys(all) : []),
    ...(isObject(human) ? Object.keys(human) : []),
  ]);
  for (const q of qs) {
    const list = isObject(all) ? all[q] : undefined;
    const src = Array.isArray(list) ? list : isObject(human) && isObject(human[q]) ? [human[q]] : [];
    const rs: Resp[] = [];
    for (const r of src)
      if (isObject(r) && 'value' in r)
        rs.push({
          value: r.value,
          ...(str(r.user) !== undefined ? { user: str(r.user) } : {}),
          status: statusOf(r.status),
        });
    if (rs.length) out.set(q, rs);
  }
  return out;
}

/** The question names with suggestions, and the suggestion Argilla keeps per question (the highest score). */
function bestSuggestions(
  v: Record<string, unknown>,
): Map<string, { value: unknown; score: number | number[] | null; agent: string | null; type?: string }> {
  const out = new Map<
    string,
    { value: unknown; score: number | number[] | null; agent: string | null; type?: string }
  >();
  const sugg = getPath(v, ['annotations', 'suggestions']);
  if (!isObject(sugg)) return out;
  for (const q of Object.keys(sugg)) {
    let best: ReturnType<typeof suggestionsOf>[number] | undefined;
    for (const s of suggestionsOf(v, q)) if (!best || (s.score ?? -1) > (best.score ?? -1)) best = s;
    // a list score (multi-label: one per label) is kept as it was
    const raw = Array.isArray(sugg[q])
      ? (sugg[q] as unknown[]).find((x) => isObject(x) && x.value === best?.value && Array.isArray(x.score))
      : undefined;
    if (best)
      out.set(q, {
        value: best.value,
        score: isObject(raw) ? (raw.score as number[]) : (best.score ?? null),
        agent: best.agent ?? null,
        ...(best.type ? { type: best.type } : {}),
      });
  }
  return out;
}

/**
 * Argilla's fields and metadata of a record: fields are the texts, chats and objects (a CustomField
 * takes a dict); metadata the scalars and lists of scalars (terms), and a `metadata` object's
 * entries. Every top-level key but the annotation's lands in one of them: nothing is dropped.
 */
function fieldsAndMetadata(
  v: Record<string, unknown>,
  o: ArgillaOptions,
): { fields: Record<string, unknown>; metadata: Record<string, unknown> } {
  const fields: Record<string, unknown> = {};
  const metadata: Record<string, unknown> = {};
  // `status` is Argilla's own only when it holds one of its values (an import's); a field of the user's otherwise
  const reserved = new Set([
    'metadata',
    'vectors',
    '_server_id',
    'inserted_at',
    'updated_at',
    o.idPath,
    ...(v.status === 'pending' || v.status === 'completed' ? ['status'] : []),
  ]);
  const isMeta = (x: unknown) => scalar(x) || (Array.isArray(x) && x.every(scalar));
  const isField = (k: string) =>
    !ANNOTATION_KEYS.has(k) &&
    !reserved.has(k) &&
    v[k] !== null &&
    v[k] !== undefined &&
    (typeof v[k] === 'string' || !isMeta(v[k]));
  const names = o.fields ?? Object.keys(v).filter(isField);
  for (const k of names) {
    const val = getPath(v, k);
    if (val !== undefined && val !== null) fields[k] = val;
  }
  if (isObject(v.metadata)) for (const [k, val] of Object.entries(v.metadata)) metadata[k] = val;
  for (const [k, val] of Object.entries(v)) {
    if (ANNOTATION_KEYS.has(k) || reserved.has(k) || k in fields) continue;
    if (isMeta(val)) metadata[k] = val;
    else if (o.fields && val !== null && val !== undefined) fields[k] = val; // not named as a field, and no scalar: kept as one
  }
  return { fields, metadata };
}

function recordStatus(v: Record<string, unknown>, responses: Map<string, Resp[]>): 'pending' | 'completed' {
  if (v.status === 'completed' || v.status === 'pending') return v.status;
  const review = reviewStatusOf(v);
  return review === 'reviewed' || [...responses.values()].some((rs) => rs.some((r) => r.status === 'submitted'))
    ? 'completed'
    : 'pending';
}

function idOf(v: Record<string, unknown>, index: number, idPath: string): string {
  const idValue = getPath(v, idPath);
  return typeof idValue === 'string' || typeof idValue === 'number' || typeof idValue === 'bigint'
    ? String(idValue)
    : String(index);
}

/** What Argilla has no slot for, kept when asked. */
function extras(v: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ANNOTATION_KEYS) if (k !== 'annotations' && v[k] !== undefined) out[k] = v[k];
  return out;
}

/** A record as Argilla 2.x's `Record.to_dict()`. */
export function toArgilla(v: Record<string, unknown>, index: number, o: ArgillaOptions): Record<string, unknown> {
  const { fields, metadata } = fieldsAndMetadata(v, o);
  const suggestions: Record<string, unknown> = {};
  for (const [q, s] of [...bestSuggestions(v)].sort(([a], [b]) => a.localeCompare(b)))
    suggestions[q] = { value: s.value, score: s.score, agent: s.agent };
  const resp = responsesOf(v);
  const responses: Record<string, unknown> = {};
  for (const [q, rs] of [...resp].sort(([a], [b]) => a.localeCompare(b))) {
    responses[q] = rs.map((r) => ({ value: r.value, user_id: argillaUserId(r.user, o.users), status: r.status }));
  }
  const row: Record<string, unknown> = {
    id: idOf(v, index, o.idPath),
    fields,
    metadata,
    suggestions,
    responses,
    vectors: isObject(v.vectors) ? v.vectors : {},
    status: recordStatus(v, resp),
    _server_id: str(v._server_id) ?? null,
  };
  if (o.includeAnnotations) {
    const extra = extras(v);
    if (Object.keys(extra).length) row.annotations = extra;
  }
  return row;
}

/** The annotation layout of Argilla suggestions and responses (shared by both import paths). */
function annotationsFrom(
  suggestions: [
    string,
    { value: unknown; score?: number | number[] | null; agent?: string | null; type?: string | null },
  ][],
  responses: [string, { value: unknown; user_id?: string | null; status?: string | null }[]][],
  status: string | undefined,
  users: UserMap,
  out: Record<string, unknown>,
): void {
  const sugg: Record<string, unknown[]> = {};
  for (const [q, s] of suggestions) {
    if (s.value === null || s.value === undefined) continue;
    const one: Record<string, unknown> = { value: s.value };
    if (s.score !== null && s.score !== undefined) one.score = s.score;
    if (s.agent !== null && s.agent !== undefined) one.agent = s.agent;
    one.type = s.type ?? 'model';
    sugg[q] = [one];
  }
  const human: Record<string, unknown> = {};
  const all: Record<string, unknown[]> = {};
  for (const [q, rs] of responses) {
    const mine = rs.map((r) => {
      const user = userOfArgillaId(r.user_id, users);
      return { value: r.value, ...(user !== undefined ? { user } : {}), status: responseStatus(r.status, status) };
    });
    if (!mine.length) continue;
    human[q] = mine.find((r) => r.status === 'submitted') ?? mine[0];
    if (mine.length > 1) all[q] = mine;
  }
  const annotations: Record<string, unknown> = {};
  if (Object.keys(sugg).length) annotations.suggestions = sugg;
  if (Object.keys(human).length) annotations.human = human;
  if (Object.keys(all).length) annotations.responses = all;
  annotations.review = { status: status === 'completed' ? 'reviewed' : 'pending' };
  const h = human.label;
  if (isObject(h) && h.status === 'submitted') out.label = h.value;
  out.annotations = annotations;
}

/** An Argilla 2.x record (`to_dict()`) in the annotation layout. */
export function fromArgilla(
  r: ArgillaRow,
  extra: Record<string, unknown>,
  users: UserMap = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (r.id !== null) out.id = r.id;
  Object.assign(out, r.fields);
  if (Object.keys(r.metadata).length) out.metadata = r.metadata;
  if (Object.keys(r.vectors).length) out.vectors = r.vectors;
  if (r._server_id) out._server_id = r._server_id;
  const status =
    r.status ??
    (Object.values(r.responses).some((rs) => rs.some((x) => x.status === 'submitted')) ? 'completed' : 'pending');
  out.status = status;
  for (const [k, v] of Object.entries(extra)) if (k !== 'annotations') out[k] = v;
  annotationsFrom(Object.entries(r.suggestions), Object.entries(r.responses), status, users, out);
  return out;
}

const RECORD_KEYS = new Set(['id', 'status', '_server_id', 'inserted_at', 'updated_at']);

/** A record as one row of Argilla's Hub export (flat columns). */
export function toArgillaHub(v: Record<string, unknown>, index: number, o: ArgillaOptions): Record<string, unknown> {
  const nested = toArgilla(v, index, { ...o, includeAnnotations: false });
  const row: Record<string, unknown> = { id: nested.id, status: nested.status, _server_id: nested._server_id };
  Object.assign(row, nested.fields, nested.metadata, nested.vectors);
  for (const [q, rs] of Object.entries(
    nested.responses as Record<string, { value: unknown; user_id: string | null; status: string }[]>,
  )) {
    row[`${q}.responses`] = rs.map((r) => r.value);
    row[`${q}.responses.users`] = rs.map((r) => r.user_id);
    row[`${q}.responses.status`] = rs.map((r) => r.status);
  }
  for (const [q, s] of Object.entries(
    nested.suggestions as Record<string, { value: unknown; score: unknown; agent: unknown }>,
  )) {
    row[`${q}.suggestion`] = s.value;
    row[`${q}.suggestion.score`] = s.score;
    row[`${q}.suggestion.agent`] = s.agent;
  }
  if (o.includeAnnotations) {
    const extra = extras(v);
    if (Object.keys(extra).length) row.annotations = extra;
  }
  return row;
}

/** One row of Argilla's Hub export in the annotation layout: the non-question columns stay top-level. */
export function fromArgillaHub(row: Record<string, unknown>, users: UserMap = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const questions = new Set<string>();
  for (const k of Object.keys(row)) {
    const m = /^(.+)\.(suggestion|responses)(\.(score|agent|users|status))?$/.exec(k);
    if (m) questions.add(m[1]!);
  }
  for (const [k, v] of Object.entries(row)) {
    const m = /^(.+)\.(suggestion|responses)(\.(score|agent|users|status))?$/.exec(k);
    if (m && questions.has(m[1]!)) continue;
    if (k === 'annotations' || k === '_server_id' || k === 'inserted_at' || k === 'updated_at') continue;
    if (RECORD_KEYS.has(k) && (v === null || v === undefined)) continue;
    if (v === null) continue; // the export fills columns a record lacks with null
    out[k] = v;
  }
  if (typeof row._server_id === 'string') out._server_id = row._server_id;
  const suggestions: [string, { value: unknown; score?: number | number[] | null; agent?: string | null }][] = [];
  const responses: [string, { value: unknown; user_id?: string | null; status?: string | null }[]][] = [];
  for (const q of [...questions].sort()) {
    if (`${q}.suggestion` in row && row[`${q}.suggestion`] !== null) {
      const score = row[`${q}.suggestion.score`];
      const agent = row[`${q}.suggestion.agent`];
      suggestions.push([
        q,
        {
          value: row[`${q}.suggestion`],
          score: typeof score === 'number' || Array.isArray(score) ? (score as number | number[]) : null,
          agent: typeof agent === 'string' ? agent : null,
        },
      ]);
    }
    const values = row[`${q}.responses`];
    if (Array.isArray(values)) {
      const us = row[`${q}.responses.users`];
      const ss = row[`${q}.responses.status`];
      responses.push([
        q,
        values.map((value: unknown, i) => ({
          value,
          user_id: Array.isArray(us) && typeof us[i] === 'string' ? us[i] : null,
          status: Array.isArray(ss) && typeof ss[i] === 'string' ? ss[i] : null,
        })),
      ]);
    }
  }
  const status = typeof row.status === 'string' ? row.status : undefined;
  if (isObject(row.annotations))
    for (const [k, v] of Object.entries(row.annotations)) if (k !== 'annotations') out[k] = v;
  annotationsFrom(suggestions, responses, status, users, out);
  return out;
}
