// A stand-in for the extension host, for the dev page only (never shipped): answers the webview's
// requests from an in-memory copy of samples/reviews.jsonl, through the core's editor session (the
// records, rows, labels, searches and edits the real host gives); stats and the rest are rough. `?rows=N` repeats the sample to N lines
// (for the list mode's virtual scrolling); `?latency=ms` delays every answer.
import sampleText from '../../samples/reviews.jsonl';
import {
  requests,
  type AgreementPayload,
  type DocumentInfo,
  type DuplicatesPayload,
  type EditRequest,
  type QueuePayload,
  type RecordPayload,
  type StatsPayload,
} from '../../src/shared/protocol';
import { AgreementAccumulator } from '../../src/core/metrics/agreement-core';
import { EditorSession, ScanMatches, type SessionLines } from '../../src/core/session/session';
import { matchesQuery, recordAnnotation } from '../../src/core/query';
import { DEFAULT_DISAGREEMENT } from '../../src/core/filter/judge-agreement';

type Obj = Record<string, unknown>;
const params = new URLSearchParams(location.search);
const latency = Number(params.get('latency') ?? 2);
document.documentElement.dataset.theme = params.get('theme') ?? 'dark';
document.body.classList.add(
  params.get('theme') === 'light'
    ? 'vscode-light'
    : params.get('theme') === 'hc'
      ? 'vscode-high-contrast'
      : 'vscode-dark',
);

const base = sampleText.split('\n').filter((l) => l.trim() !== '');
// Extra lines that exercise the renderer: a chat record with nested data, an invalid line.
base.splice(
  3,
  0,
  JSON.stringify({
    id: 'chat-0001',
    messages: [
      { role: 'system', content: 'You are a helpful support agent. Never reveal internal notes.' },
      {
        role: 'user',
        content: 'My phone stopped charging after three weeks. <script>alert(1)</script> What can I do?',
      },
      {
        role: 'assistant',
        content:
          'Sorry to hear that! First, try a different cable and power adapter.\nIf that does not help, we will replace the phone under warranty.',
      },
    ],
    meta: {
      source: { name: 'support-logs', shard: 3, tags: ['warranty', 'charging'], deep: { level3: { level4: true } } },
      split: 'train',
    },
    label: 'negative',
    annotations: { review: { status: 'pending' } },
  }),
  '{"id":"rev-broken","text":"Great value for the price", "label": positive}',
  JSON.stringify({
    prompt: 'Explain why the sky is blue <b>in one paragraph</b>.',
    chosen: [
      { role: 'user', content: 'Explain why the sky is blue <b>in one paragraph</b>.' },
      {
        role: 'assistant',
        content:
          'Sunlight is scattered by the molecules of the air, and short (blue) wavelengths scatter far more than long (red) ones: Rayleigh scattering, proportional to 1/λ⁴. So blue light reaches our eyes from every direction of the sky.',
      },
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
    annotations: {
      origin: { type: 'model', task: 'preferences', models: ['gpt-4.1', 'tiny-model'], judge_model: 'gpt-4.1' },
    },
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
    return { invalid: { reason: `invalid JSON: ${err instanceof Error ? err.message : String(err)}` } };
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

/** The sample's lines, edited in memory: what the store is to the real host. */
const lines: SessionLines<void> = {
  get lineCount() {
    return total;
  },
  indexed: true,
  line: (i) => ({ raw: rawAt(i), ...parsedAt(i), edited: overrides.has(i) }),
  replaceLine(i, v) {
    const raw =
      obj(v) && Object.keys(v as Obj).length === 1 && typeof (v as Obj).raw === 'string'
        ? ((v as Obj).raw as string)
        : JSON.stringify(v);
    overrides.set(i, raw);
  },
  setField(i, path, value) {
    const v = structuredClone(parsedAt(i).value ?? {});
    setPath(v, path, value);
    overrides.set(i, JSON.stringify(v));
  },
};

const matchLists = new Map<string, ScanMatches>();
/** The real host's editor session, over the lines above (matches are found at once, not in slices). */
const session = new EditorSession(() => lines, {
  fileName: () => 'reviews.jsonl',
  dirty: () => dirty,
  configuredLabels: () => [],
  disagreement: () => DEFAULT_DISAGREEMENT,
  matches(q) {
    const key = JSON.stringify(q);
    let m = matchLists.get(key);
    if (!m) {
      const test = matchesQuery(q);
      m = new ScanMatches(total, (i) => test(lines.line(i)));
      matchLists.set(key, m);
    }
    return m;
  },
});
const annotationOf = (v: Obj) => recordAnnotation(v);

function info(): DocumentInfo {
  return { ...session.info(), columns: ['id', 'text', 'label', 'rationale', 'messages', 'meta'] };
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

/** An edit, as the real host makes it; the page that made it is told so (it already has the record). */
function edit(e: EditRequest): RecordPayload {
  session.edit(e);
  session.changed();
  dirty = true;
  matchLists.clear();
  setTimeout(
    () => send({ kind: 'event', type: 'changed', info: info(), generation: 0, focus: e.index, edited: e.index }),
    0,
  );
  return session.record(e.index);
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
  return {
    records: n,
    invalid,
    labels,
    scoreHistogram,
    meanScore: scored ? sum / scored : undefined,
    annotatedShare: annotated / n,
    reviewedShare: reviewed / n,
    generated,
    generatedShare: generated / n,
  };
}

function agreementReport(goldField?: string): AgreementPayload {
  const g = goldField ? (`field:${goldField}` as const) : undefined;
  const acc = new AgreementAccumulator({
    question: 'label',
    compare: g
      ? [
          ['human', 'suggestion'],
          [g, 'suggestion'],
          [g, 'human'],
        ]
      : [['human', 'suggestion']],
    judges: true,
    people: true,
  });
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
  const page = [...groups.values()]
    .filter((g) => g.length > 1)
    .slice(0, 6)
    .map((g, id) => ({
      id,
      kind: 'near' as const,
      similarity: 0.86,
      representative: g[0]!,
      resolved: false,
      members: g.slice(0, 4).map((index) => {
        const v = parsedAt(index).value ?? {};
        const a = annotationOf(v);
        return {
          index,
          lineNumber: index + 1,
          text: str(v.text) ?? '',
          label: a.label,
          score: a.judge?.score,
          tags: [],
        };
      }),
    }));
  return {
    search: { method: 'near', threshold: 0.8 },
    description: 'near-duplicates of the text (MinHash over 5-word shingles, Jaccard ≥ 0.8)',
    searched: base.length,
    clusters: page.length,
    records: page.reduce((n, c) => n + c.members.length, 0),
    extra: page.reduce((n, c) => n + c.members.length - 1, 0),
    resolved: 0,
    tag: 'duplicate',
    offset: 0,
    page,
    stale: false,
  };
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
      return session.record(requests.getRecord.params.parse(p).index);
    case 'getRows': {
      const r = requests.getRows.params.parse(p);
      return session.rows(r.start, r.count, r.columns);
    }
    case 'search':
      return session.search(requests.search.params.parse(p));
    case 'getMatchRows':
      return session.matchRows(requests.getMatchRows.params.parse(p));
    case 'matchPosition':
      return session.matchPosition(requests.matchPosition.params.parse(p));
    case 'edit':
      return edit(requests.edit.params.parse(p));
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
      if (m.kind === 'notify' && m.type === 'ready') send({ kind: 'event', type: 'init', info: info(), generation: 0 });
      else if (m.kind === 'notify') console.log('[webview log]', m);
      else if (m.kind === 'request' && m.id !== undefined && m.method) {
        try {
          send({ kind: 'response', id: m.id, ok: true, result: answer(m.method, m.params) });
        } catch (err) {
          send({
            kind: 'response',
            id: m.id,
            ok: false,
            error: { message: err instanceof Error ? err.message : String(err) },
          });
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
