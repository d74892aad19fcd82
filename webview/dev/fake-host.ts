// A stand-in for the extension host, for the dev page only (never shipped): answers the webview's
// requests from an in-memory copy of samples/reviews.jsonl. `?rows=N` repeats the sample to N lines
// (for the list mode's virtual scrolling); `?latency=ms` delays every answer.
import sampleText from '../../samples/reviews.jsonl';
import type { AgreementPayload, AnnotationView, DocumentInfo, DuplicatesPayload, EditRequest, QueuePayload, RecordPayload, RowPayload, SearchQuery, StatsPayload, SuggestionView } from '../../src/shared/protocol';
import { AgreementAccumulator } from '../../src/core/metrics/agreement-core';
import { readPreference, swapPreference } from '../../src/core/schema/preference';

type Obj = Record<string, unknown>;
const params = new URLSearchParams(location.search);
const latency = Number(params.get('latency') ?? 2);
document.documentElement.dataset.theme = params.get('theme') ?? 'dark';
document.body.classList.add(params.get('theme') === 'light' ? 'vscode-light' : params.get('theme') === 'hc' ? 'vscode-high-contrast' : 'vscode-dark');

const base = sampleText.split('\n').filter((l) => l.trim() !== '');
// Extra lines that exercise the renderer: a chat record with nested data, an invalid line.
base.splice(
  3,
  0,
  JSON.stringify({
    id: 'chat-0001',
    messages: [
      { role: 'system', content: 'You are a helpful support agent. Never reveal internal notes.' },
      { role: 'user', content: 'My phone stopped charging after three weeks. <script>alert(1)</script> What can I do?' },
      { role: 'assistant', content: 'Sorry to hear that! First, try a different cable and power adapter.\nIf that does not help, we will replace the phone under warranty.' },
    ],
    meta: { source: { name: 'support-logs', shard: 3, tags: ['warranty', 'charging'], deep: { level3: { level4: true } } }, split: 'train' },
    label: 'negative',
    annotations: { review: { status: 'pending' } },
  }),
  '{"id":"rev-broken","text":"Great value for the price", "label": positive}',
  JSON.stringify({
    prompt: 'Explain why the sky is blue <b>in one paragraph</b>.',
    chosen: [
      { role: 'user', content: 'Explain why the sky is blue <b>in one paragraph</b>.' },
      { role: 'assistant', content: 'Sunlight is scattered by the molecules of the air, and short (blue) wavelengths scatter far more than long (red) ones: Rayleigh scattering, proportional to 1/λ⁴. So blue light reaches our eyes from every direction of the sky.' },
    ],
    chosen_rating: 9,
    chosen_model: 'gpt-4.1',
    rejected: [
      { role: 'user', content: 'Explain why the sky is blue <b>in one paragraph</b>.' },
      { role: 'assistant', content: 'Because it reflects the ocean.' },
    ],
    rejected_rating: 2,
    rejected_model: 'tiny-model',
    generations: ['Sunlight is scattered…', 'Because it reflects the ocean.'],
    ratings: [9, 2],
    annotations: { origin: { type: 'model', task: 'preferences', models: ['gpt-4.1', 'tiny-model'], judge_model: 'gpt-4.1' } },
  }),
);
const total = Math.max(Number(params.get('rows') ?? 0), base.length);
const overrides = new Map<number, string>();
let dirty = false;

const parsedBase = base.map(parse);
function parse(raw: string): { value?: Obj; invalid?: { reason: string } } {
  try {
    const v = JSON.parse(raw) as unknown;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return { invalid: { reason: 'not a JSON object' } };
    return { value: v as Obj };
  } catch (err) {
    return { invalid: { reason: err instanceof Error ? err.message : String(err) } };
  }
}
function rawAt(i: number): string {
  return overrides.get(i) ?? base[i % base.length]!;
}
function parsedAt(i: number): { value?: Obj; invalid?: { reason: string } } {
  const o = overrides.get(i);
  return o !== undefined ? parse(o) : parsedBase[i % base.length]!;
}

const obj = (v: unknown): Obj | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

function annotationOf(v: Obj): AnnotationView {
  const ann = obj(v.annotations) ?? {};
  const humanLabel = obj(obj(ann.human)?.label);
  const suggestions: SuggestionView[] = [];
  for (const [question, list] of Object.entries(obj(ann.suggestions) ?? {})) {
    (Array.isArray(list) ? list : []).forEach((s: unknown, position) => {
      const o = obj(s) ?? {};
      const p = obj(o.provenance);
      const usage = obj(p?.usage);
      suggestions.push({
        question,
        value: o.value,
        score: num(o.score),
        agent: str(o.agent),
        type: o.type === 'human' ? 'human' : 'model',
        rationale: str(o.rationale),
        position,
        provenance: p ? { model: str(p.model), promptHash: str(p.prompt_hash), time: str(p.time), inputTokens: num(usage?.input_tokens), outputTokens: num(usage?.output_tokens) } : undefined,
      });
    });
  }
  const judge = obj(v.judge);
  return {
    label: str(humanLabel?.value) ?? str(v.label),
    rationale: str(v.rationale),
    judge: judge
      ? {
          score: num(judge.score),
          scale: Array.isArray(judge.scale) ? [Number(judge.scale[0]), Number(judge.scale[1])] : undefined,
          reasons: str(judge.reasons),
          criteria: obj(judge.criteria) as Record<string, number> | undefined,
          model: str(judge.model),
        }
      : undefined,
    suggestions,
    human: humanLabel ? { value: humanLabel.value, user: str(humanLabel.user), status: str(humanLabel.status), time: str(humanLabel.time) } : undefined,
    reviewStatus: str(obj(ann.review)?.status),
  };
}

function record(i: number): RecordPayload {
  const p = parsedAt(i);
  return {
    index: i,
    lineNumber: i + 1,
    raw: rawAt(i),
    value: p.value,
    invalid: p.invalid,
    annotation: p.value ? annotationOf(p.value) : undefined,
    preference: p.value ? readPreference(p.value) : undefined,
    edited: overrides.has(i),
  };
}

function info(): DocumentInfo {
  const labels = new Set<string>();
  for (const p of parsedBase) if (p.value) for (const l of [str(p.value.label), ...((obj(obj(p.value.annotations)?.suggestions)?.label as Obj[] | undefined) ?? []).map((s) => str(s.value))]) if (l) labels.add(l);
  return { fileName: 'reviews.jsonl', lineCount: total, indexed: true, labels: [...labels].sort(), dirty, columns: ['id', 'text', 'label', 'rationale', 'messages', 'meta'] };
}

function short(v: unknown): string {
  const s = typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v);
  return s.replace(/\s+/g, ' ').slice(0, 200);
}

function row(i: number, columns: string[]): RowPayload {
  const p = parsedAt(i);
  const a = p.value ? annotationOf(p.value) : undefined;
  return { index: i, lineNumber: i + 1, cells: columns.map((c) => short(p.value?.[c])), label: a?.label, score: a?.judge?.score, reviewStatus: a?.reviewStatus, invalid: !!p.invalid };
}

function matches(i: number, q: SearchQuery, re: RegExp | undefined): boolean {
  const p = parsedAt(i);
  if (q.invalid && !p.invalid) return false;
  if (q.text) {
    const raw = rawAt(i);
    if (re ? !re.test(raw) : !raw.toLowerCase().includes(q.text.toLowerCase())) return false;
  }
  if (q.label !== undefined || q.minScore !== undefined || q.maxScore !== undefined || q.reviewStatus !== undefined) {
    if (!p.value) return false;
    const a = annotationOf(p.value);
    if (q.label !== undefined && a.label !== q.label) return false;
    if (q.reviewStatus !== undefined && (a.reviewStatus ?? 'pending') !== q.reviewStatus) return false;
    const s = a.judge?.score;
    if (q.minScore !== undefined && (s === undefined || s < q.minScore)) return false;
    if (q.maxScore !== undefined && (s === undefined || s > q.maxScore)) return false;
  }
  return true;
}

function search(p: { query: SearchQuery; from?: number; direction?: 'forward' | 'backward'; limit?: number }): { matches: number[]; total?: number } {
  const limit = p.limit ?? 1000;
  const from = p.from ?? 0;
  const re = p.query.text && p.query.regex ? new RegExp(p.query.text) : undefined;
  const out: number[] = [];
  let count = 0;
  const forward = (p.direction ?? 'forward') === 'forward';
  for (let i = from; forward ? i < total : i >= 0; i += forward ? 1 : -1) {
    if (!matches(i, p.query, re)) continue;
    count++;
    if (out.length < limit) out.push(i);
    else if (!(forward && from === 0 && total <= 200_000)) return { matches: out };
  }
  return { matches: out, total: forward && from === 0 ? count : undefined };
}

const matchLists = new Map<string, number[]>();
/** Every match of a query (the extension's host builds this in slices; the fake does it at once). */
function matchList(q: SearchQuery): number[] {
  const key = JSON.stringify(q);
  let list = matchLists.get(key);
  if (!list) {
    const re = q.text && q.regex ? new RegExp(q.text) : undefined;
    list = [];
    for (let i = 0; i < total; i++) if (matches(i, q, re)) list.push(i);
    matchLists.set(key, list);
  }
  return list;
}

function matchProgress(list: number[]) {
  return { count: list.length, scanned: total, lineCount: total, done: true };
}

function setPath(target: Obj, path: (string | number)[], value: unknown): void {
  let cur: Record<string | number, unknown> = target;
  for (const key of path.slice(0, -1)) {
    const next = cur[key];
    if (next === null || typeof next !== 'object') cur[key] = {};
    cur = cur[key] as Record<string | number, unknown>;
  }
  cur[path[path.length - 1]!] = value;
}

function edit(e: EditRequest): RecordPayload {
  const i = e.index;
  if (e.op === 'replaceRaw') {
    overrides.set(i, e.raw);
  } else {
    const p = parsedAt(i);
    if (!p.value) throw new Error(`Line ${i + 1} is not a valid record`);
    const v = structuredClone(p.value);
    const ann = (obj(v.annotations) ?? (v.annotations = {})) as Obj;
    const setHuman = (value: unknown) => {
      const human = (obj(ann.human) ?? (ann.human = {})) as Obj;
      human.label = { value, user: 'dev', status: 'submitted', time: new Date().toISOString() };
      ann.review = { status: 'reviewed' };
    };
    if (e.op === 'relabel') setHuman(e.label);
    else if (e.op === 'accept') {
      const s = (obj(ann.suggestions)?.[e.question] as Obj[] | undefined)?.[e.position];
      if (!s) throw new Error('No such suggestion');
      setHuman(s.value);
    } else if (e.op === 'reject') ann.review = { status: 'rejected' };
    else if (e.op === 'setReviewStatus') ann.review = { status: e.status };
    else if (e.op === 'swapPreference') {
      overrides.set(i, JSON.stringify(swapPreference(p.value, { time: new Date().toISOString() })));
      dirty = true;
      setTimeout(() => send({ kind: 'event', type: 'changed', info: info(), focus: i }), 0);
      return record(i);
    }
    else if (e.op === 'setField') setPath(v, e.path, e.value);
    overrides.set(i, JSON.stringify(v));
  }
  dirty = true;
  matchLists.clear();
  setTimeout(() => send({ kind: 'event', type: 'changed', info: info(), focus: i }), 0);
  return record(i);
}

function stats(): StatsPayload {
  const labels: Record<string, number> = {};
  const hist = new Map<number, number>();
  let invalid = 0;
  let annotated = 0;
  let reviewed = 0;
  let sum = 0;
  let scored = 0;
  let generated = 0;
  const n = Math.min(total, 200_000);
  for (let i = 0; i < n; i++) {
    const p = parsedAt(i);
    if (!p.value) {
      invalid++;
      continue;
    }
    const a = annotationOf(p.value);
    if (obj(obj(p.value.annotations)?.origin)?.type === 'model') generated++;
    if (a.label) labels[a.label] = (labels[a.label] ?? 0) + 1;
    if (a.label || a.suggestions.length) annotated++;
    if (a.reviewStatus === 'reviewed') reviewed++;
    const s = a.judge?.score;
    if (s !== undefined) {
      hist.set(Math.round(s), (hist.get(Math.round(s)) ?? 0) + 1);
      sum += s;
      scored++;
    }
  }
  const scoreHistogram = [];
  for (let b = 1; b <= 10; b++) scoreHistogram.push({ bucket: String(b), count: hist.get(b) ?? 0 });
  return { records: n, invalid, labels, scoreHistogram, meanScore: scored ? sum / scored : undefined, annotatedShare: annotated / n, reviewedShare: reviewed / n, generated, generatedShare: generated / n };
}

function agreementReport(goldField?: string): AgreementPayload {
  const g = goldField ? (`field:${goldField}` as const) : undefined;
  const acc = new AgreementAccumulator({ question: 'label', compare: g ? [['human', 'suggestion'], [g, 'suggestion'], [g, 'human']] : [['human', 'suggestion']], judges: true });
  for (let i = 0; i < Math.min(total, 200_000); i++) acc.add(parsedAt(i).value, 1);
  return { question: 'label', ...(goldField ? { goldField } : {}), ...acc.report() };
}

function queue(): QueuePayload {
  let n = 0;
  for (let i = 0; i < Math.min(total, 200_000); i++) {
    const r = obj(obj(parsedAt(i).value?.annotations)?.review);
    if (typeof r?.queue === 'string' && (r.status ?? 'pending') === 'pending') n++;
  }
  return { counted: true, total: n, queues: n ? [{ queue: 'low-confidence', count: n }] : [] };
}

/** Dev only: records with the same label and judge score pose as a cluster (the layout is what is looked at). */
function duplicates(): DuplicatesPayload {
  const groups = new Map<string, number[]>();
  for (let i = 0; i < base.length; i++) {
    const v = parsedAt(i).value;
    if (!v) continue;
    const k = `${str(v.label)}|${num(obj(v.judge)?.score)}`;
    groups.set(k, [...(groups.get(k) ?? []), i]);
  }
  const page = [...groups.values()].filter((g) => g.length > 1).slice(0, 6).map((g, id) => ({
    id,
    kind: 'near' as const,
    similarity: 0.86,
    representative: g[0]!,
    resolved: false,
    members: g.slice(0, 4).map((index) => {
      const v = parsedAt(index).value ?? {};
      const a = annotationOf(v);
      return { index, lineNumber: index + 1, text: str(v.text) ?? '', label: a.label, score: a.judge?.score, tags: [] };
    }),
  }));
  return { search: { method: 'near', threshold: 0.8 }, description: 'near-duplicates of the text (MinHash over 5-word shingles, Jaccard ≥ 0.8)', searched: base.length, clusters: page.length, records: page.reduce((n, c) => n + c.members.length, 0), extra: page.reduce((n, c) => n + c.members.length - 1, 0), resolved: 0, tag: 'duplicate', offset: 0, page, stale: false };
}

function send(message: unknown): void {
  window.dispatchEvent(new MessageEvent('message', { data: message }));
}

function answer(method: string, p: unknown): unknown {
  const q = (p ?? {}) as Record<string, unknown>;
  switch (method) {
    case 'getInfo':
      return info();
    case 'getRecord':
      if (typeof q.index !== 'number' || q.index >= total) throw new Error('No such line');
      return record(q.index);
    case 'getRows': {
      const start = q.start as number;
      const count = Math.min(q.count as number, total - start);
      return Array.from({ length: Math.max(0, count) }, (_, k) => row(start + k, q.columns as string[]));
    }
    case 'search':
      return search(p as Parameters<typeof search>[0]);
    case 'getMatchRows': {
      const list = matchList(q.query as SearchQuery);
      const start = q.start as number;
      return { rows: list.slice(start, start + (q.count as number)).map((i) => row(i, q.columns as string[])), ...matchProgress(list) };
    }
    case 'matchPosition': {
      const list = matchList(q.query as SearchQuery);
      let position = list.findIndex((i) => i >= (q.index as number));
      if (position === -1) position = list.length;
      return { position, exact: list[position] === q.index, ...matchProgress(list) };
    }
    case 'edit':
      return edit(p as EditRequest);
    case 'getStats':
      return stats();
    case 'getAgreement':
      return agreementReport(typeof q.goldField === 'string' ? q.goldField : undefined);
    case 'getQueue':
      return queue();
    case 'getDuplicates':
    case 'findDuplicates':
      return duplicates();
    case 'resolveDuplicates':
      return { changed: 0, message: 'Dev page: nothing changed' };
    default:
      throw new Error(`Unknown method ${method}`);
  }
}

let state: unknown = JSON.parse(sessionStorage.getItem('dc-state') ?? 'null');
(window as unknown as { acquireVsCodeApi: () => unknown }).acquireVsCodeApi = () => ({
  postMessage(message: unknown) {
    const m = message as { kind?: string; type?: string; id?: number; method?: string; params?: unknown };
    setTimeout(() => {
      if (m.kind === 'notify' && m.type === 'ready') send({ kind: 'event', type: 'init', info: info() });
      else if (m.kind === 'notify') console.log('[webview log]', m);
      else if (m.kind === 'request' && m.id !== undefined && m.method) {
        try {
          send({ kind: 'response', id: m.id, ok: true, result: answer(m.method, m.params) });
        } catch (err) {
          send({ kind: 'response', id: m.id, ok: false, error: { message: err instanceof Error ? err.message : String(err) } });
        }
      }
    }, latency);
  },
  getState: () => state,
  setState(s: unknown) {
    state = s;
    sessionStorage.setItem('dc-state', JSON.stringify(s));
  },
});
