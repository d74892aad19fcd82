// The curation editor's assessment views, host side: the live agreement report (with judges and
// people: Cohen's kappa per pair of people, Fleiss' kappa, Krippendorff's alpha), duplicate
// clusters for review, and the human review queue. Everything is computed by the core over the
// document's store (src/core/metrics/live.ts keeps the figures up to date edit by edit; the
// duplicate search is the core's filter operation); this file holds the per-document state and
// turns user actions into undoable edits of the document.
import * as vscode from 'vscode';
import * as path from 'node:path';
import {
  createFilterOperation,
  dedupText,
  tagEdits,
  type FilterOptions,
  type FilterResult,
} from '../core/filter/filter';
import { duplicatesToDrop, type DupCluster } from '../core/filter/dedup';
import { inReviewQueue, tagsOf, type FieldEdit } from '../core/filter/fields';
import { createReviewQueueOperation, markForReview, type ReviewQueue } from '../core/filter/thresholds';
import { agreementSpec } from '../core/metrics/agreement';
import { LiveAggregate } from '../core/metrics/live';
import type { AgreementSpec } from '../core/metrics/agreement-core';
import { embedderFor, type Embedder } from '../core/llm/embeddings';
import { readAnnotation } from '../core/schema/annotation';
import { datasetLines } from '../core/sources';
import { LineTracker, type Edit } from '../core/store';
import type {
  AgreementPayload,
  DuplicateClusterPayload,
  DuplicateSearch,
  DuplicatesPayload,
  HostEvent,
  ParsedParams,
  QueuePayload,
  ViewMode,
} from '../shared/protocol';
import type { DatasetDocument } from './datasetDocument';
import { runWithProgress } from './jobs';
import { endpointFor } from './llmFace';
import { apiKey, readEndpointSettings } from './settings';
import type { Log } from './log';

/** The tag "tag the others" adds to the members of a cluster that are not kept. */
export const DUPLICATE_TAG = 'duplicate';
const EXCERPT = 600;
/** Files this big are not counted on open only to show the review queue's count. */
const CHEAP_COUNT_BYTES = 32 * 1024 * 1024;

interface Found {
  search: DuplicateSearch;
  description: string;
  /** The clusters as found; their records' indices now are in `tracker`. */
  found: DupCluster[];
  /** Each cluster's representative, then its members, in order: followed through edits (undo of a delete brings them back). */
  tracker: LineTracker;
  searched: number;
  stale: boolean;
}

/** The clusters with their records where they are now (deleted ones left out). */
function liveClusters(f: Found): DupCluster[] {
  let k = 0;
  return f.found.map((c) => {
    const rep = f.tracker.at[k++];
    const members = c.members.map(() => f.tracker.at[k++]).filter((m): m is number => m !== undefined);
    return { ...c, members, representative: rep !== undefined ? rep : (members[0] ?? 0) };
  });
}

function describe(s: DuplicateSearch, field: string | undefined): string {
  const of = field ? `"${field}"` : 'the text';
  const keep = s.keep === 'highest-score' ? '; the best judge score kept' : '';
  if (s.method === 'exact')
    return `exact duplicates of ${of} (normalized${s.stripPunctuation ? ', punctuation ignored' : ''}${keep})`;
  if (s.method === 'near') {
    const shingle = s.shingle === 'chars' ? `${s.shingleSize ?? 7}-character` : `${s.shingleSize ?? 5}-word`;
    return `near-duplicates of ${of} (MinHash over ${shingle} shingles, Jaccard ≥ ${s.threshold ?? 0.8}${keep})`;
  }
  return `semantic duplicates of ${of} (${s.embeddingModel ?? 'embeddings'}, cosine ≥ ${s.threshold ?? 0.95}${keep})`;
}

function excerpt(text: string | undefined): string {
  if (text === undefined) return '';
  return text.length > EXCERPT ? `${text.slice(0, EXCERPT - 1)}…` : text;
}

/** One document's assessment state. */
export class DocumentAssessment {
  private agreementLive:
    | {
        key: string;
        question: string;
        goldField?: string;
        live: LiveAggregate<{ type: 'agreement'; spec: AgreementSpec }>;
      }
    | undefined;
  readonly queueLive: LiveAggregate<{ type: 'review-queue' }>;
  private found: Found | undefined;
  /** Set while a duplicate search reads the document: lines inserted or deleted meanwhile make its indices unreliable. */
  private searching: { structural: boolean } | undefined;
  /** A view a command asked for before the webview was there to receive it. */
  pendingShow: Extract<HostEvent, { type: 'show' }> | undefined;
  private readonly sub: vscode.Disposable;

  constructor(
    readonly doc: DatasetDocument,
    private readonly log: Log,
  ) {
    this.queueLive = new LiveAggregate(doc.store, { type: 'review-queue' });
    this.sub = doc.onDidChangeStore((edits) => this.onStore(edits));
  }

  dispose(): void {
    this.sub.dispose();
  }

  private onStore(edits: readonly Edit[] | undefined): void {
    if (!edits) {
      this.agreementLive?.live.invalidate();
      this.queueLive.invalidate();
      if (this.found) this.found.stale = true;
      if (this.searching) this.searching.structural = true;
      return;
    }
    this.agreementLive?.live.applyEdits(edits);
    this.queueLive.applyEdits(edits);
    const structural = edits.some((e) => e.type !== 'replace');
    if (this.searching && structural) this.searching.structural = true;
    // Cluster members follow their records through inserts and deletes.
    if (this.found && structural) this.found.tracker.apply(edits);
  }

  // --- agreement ------------------------------------------------------------------------------

  async agreement(p: ParsedParams<'getAgreement'>): Promise<AgreementPayload> {
    const key = `${p.question}\u0000${p.goldField ?? ''}`;
    if (this.agreementLive?.key !== key) {
      const g = p.goldField ? `field:${p.goldField}` : undefined;
      const compare: [string, string][] = g
        ? [
            ['human', 'suggestion'],
            [g, 'suggestion'],
            [g, 'human'],
            [g, 'label'],
          ]
        : [['human', 'suggestion']];
      const spec = agreementSpec({ question: p.question, compare, judges: true, people: true });
      this.agreementLive = {
        key,
        question: p.question,
        ...(p.goldField ? { goldField: p.goldField } : {}),
        live: new LiveAggregate(this.doc.store, { type: 'agreement', spec }),
      };
    }
    const { live, question, goldField } = this.agreementLive;
    const r = (await live.current()).report();
    return { question, ...(goldField ? { goldField } : {}), ...r };
  }

  // --- review queue ---------------------------------------------------------------------------

  /** Records waiting in review queues. With `ifCheap`, a file of 32 MiB or more is not counted just to show the toolbar's count (it is once the queue is used). */
  async queue(ifCheap = false): Promise<QueuePayload> {
    if (ifCheap && !this.queueLive.counted && this.doc.store.byteLength >= CHEAP_COUNT_BYTES)
      return { counted: false, total: 0, queues: [] };
    const q = await this.queueLive.current();
    return { counted: true, total: q.total, queues: q.counts() };
  }

  // --- duplicates -----------------------------------------------------------------------------

  /** Looks for duplicates in the document as it is now (edits included). Undefined: cancelled or failed (the user was told). */
  async findDuplicates(
    search: DuplicateSearch,
    embedder?: () => Promise<(Embedder & { close(): void }) | undefined>,
  ): Promise<DuplicatesPayload | undefined> {
    const log = this.log;
    const name = path.basename(this.doc.uri.fsPath);
    let emb: (Embedder & { close(): void }) | undefined;
    if (search.method === 'semantic') {
      emb = await embedder?.();
      if (!emb) return undefined;
    }
    const store = this.doc.store;
    const op = createFilterOperation({
      open: (_file, signal) => () => datasetLines(store, signal),
      ...(emb ? { embed: emb.embed } : {}),
    });
    const options: FilterOptions = {
      file: this.doc.uri.fsPath,
      action: 'dry-run',
      dedup: search.method,
      ...(search.field ? { dedupField: search.field } : {}),
      ...(search.keep ? { keep: search.keep } : {}),
      ...(search.method === 'exact' && search.stripPunctuation ? { exact: { stripPunctuation: true } } : {}),
      ...(search.method === 'near'
        ? {
            near: {
              ...(search.threshold !== undefined ? { threshold: search.threshold } : {}),
              ...(search.shingle ? { shingle: search.shingle } : {}),
              ...(search.shingleSize ? { shingleSize: search.shingleSize } : {}),
            },
          }
        : {}),
      ...(search.method === 'semantic'
        ? { semantic: { ...(search.threshold !== undefined ? { threshold: search.threshold } : {}) } }
        : {}),
    };
    const flag = { structural: false };
    this.searching = flag;
    let result: FilterResult | undefined;
    try {
      result = await runWithProgress(
        op,
        op.options.parse(options),
        {
          title: `Finding duplicates in ${name}`,
          cancelled: `Finding duplicates in ${name} was cancelled; nothing changed.`,
        },
        log,
      );
    } finally {
      if (this.searching === flag) this.searching = undefined;
      emb?.close();
    }
    if (!result?.dedup) return undefined;
    const clusters = result.dedup.clusters;
    this.found = {
      search,
      description: describe(search, search.field),
      found: clusters,
      tracker: new LineTracker(clusters.flatMap((c) => [c.representative, ...c.members])),
      searched: result.dedup.compared,
      stale: flag.structural,
    };
    log.info(
      `${name}: ${this.found.description}: ${clusters.length} cluster(s) among ${result.dedup.compared} record(s)${emb ? `; embeddings: ${emb.counts.requests} request(s), ${emb.counts.cached} text(s) from the cache` : ''}`,
    );
    return this.duplicates(0, 50) as DuplicatesPayload;
  }

  private isResolved(c: DupCluster, tagged: (i: number) => boolean): boolean {
    return c.members.filter((m) => !tagged(m)).length <= 1;
  }

  private taggedFn(): (i: number) => boolean {
    const ds = this.doc.store;
    const memo = new Map<number, boolean>();
    return (i) => {
      let t = memo.get(i);
      if (t === undefined) {
        const v = i < ds.lineCount ? ds.line(i).value : undefined;
        t = !!v && tagsOf(v).includes(DUPLICATE_TAG);
        memo.set(i, t);
      }
      return t;
    };
  }

  /** A page of the last search's clusters (null: no search yet). */
  duplicates(offset: number, limit: number): DuplicatesPayload | null {
    const f = this.found;
    if (!f) return null;
    const ds = this.doc.store;
    const tagged = this.taggedFn();
    const live = liveClusters(f).filter((c) => c.members.length > 0);
    const page: DuplicateClusterPayload[] = live.slice(offset, offset + limit).map((c) => ({
      id: c.id,
      kind: c.kind,
      similarity: c.similarity,
      representative: c.representative,
      resolved: this.isResolved(c, tagged),
      members: c.members.map((index) => {
        if (index >= ds.lineCount) return { index, lineNumber: index + 1, text: '', tags: [], invalid: true };
        const line = ds.line(index);
        const v = line.value;
        if (!v) return { index, lineNumber: index + 1, text: excerpt(line.raw), tags: [], invalid: true };
        const ann = readAnnotation(v);
        return {
          index,
          lineNumber: index + 1,
          text: excerpt(dedupText(v, f.search.field) ?? line.raw),
          ...(ann.label !== undefined ? { label: ann.label } : {}),
          ...(ann.judgeScore !== undefined ? { score: ann.judgeScore } : {}),
          tags: tagsOf(v),
        };
      }),
    }));
    return {
      search: f.search,
      description: f.description,
      searched: f.searched,
      clusters: live.length,
      records: live.reduce((n, c) => n + c.members.length, 0),
      extra: live.reduce((n, c) => n + Math.max(0, c.members.length - 1), 0),
      resolved: live.filter((c) => this.isResolved(c, tagged)).length,
      tag: DUPLICATE_TAG,
      offset,
      page,
      stale: f.stale,
    };
  }

  /** Keep one member per cluster, tag or delete the others: one undoable edit of the document. */
  resolve(p: ParsedParams<'resolveDuplicates'>): { changed: number; message: string } {
    const f = this.found;
    if (!f) throw new Error('Find duplicates first.');
    if (f.stale) throw new Error('The file changed since the duplicates were found: find them again.');
    const ids = p.clusters === 'all' ? undefined : new Set(p.clusters);
    const clusters = liveClusters(f).filter((c) => c.members.length > 1 && (!ids || ids.has(c.id)));
    if (clusters.length === 0)
      return { changed: 0, message: 'Nothing to do: no cluster has more than one record left.' };
    const keep = new Map<number, number>();
    for (const [id, index] of Object.entries(p.keep)) keep.set(Number(id), index);
    for (const c of clusters) {
      const k = keep.get(c.id);
      if (k !== undefined && !c.members.includes(k)) throw new Error(`Line ${k + 1} is not in cluster ${c.id + 1}.`);
    }
    const drop = duplicatesToDrop(clusters, keep);
    const what =
      clusters.length === 1 ? `cluster ${(clusters[0] as DupCluster).id + 1}` : `${clusters.length} clusters`;
    if (p.action === 'delete') {
      const n = this.doc.deleteLines(drop, `Delete ${drop.length} duplicate(s)`);
      return {
        changed: n,
        message: `Deleted ${n} duplicate(s) of ${what}. Undo (Ctrl+Z) brings them back; save to keep it.`,
      };
    }
    const ds = this.doc.store;
    const current = (i: number) => {
      const v = ds.line(i).value;
      return v ? tagsOf(v) : undefined;
    };
    const edits: FieldEdit[] = tagEdits(
      drop.map((i) => [i, current(i)] as const),
      DUPLICATE_TAG,
    );
    // The one kept must not carry the tag (it may, from an earlier choice of another keeper).
    for (const c of clusters) {
      const kept = keep.get(c.id) ?? c.representative;
      const t = current(kept);
      if (t?.includes(DUPLICATE_TAG))
        edits.push({ index: kept, path: ['annotations', 'tags'], value: t.filter((x) => x !== DUPLICATE_TAG) });
    }
    if (edits.length === 0)
      return { changed: 0, message: `The others in ${what} are already tagged "${DUPLICATE_TAG}".` };
    const n = this.doc.setFields(edits, `Tag ${drop.length} duplicate(s)`);
    return {
      changed: n,
      message: `Tagged ${n} record(s) "${DUPLICATE_TAG}" in ${what}. Undo (Ctrl+Z) reverts it; save to keep it.`,
    };
  }

  // --- review queue ---------------------------------------------------------------------------

  /** Sends the records the model is unsure about to the review queue: one undoable edit. */
  async sendToReview(
    minConfidence: number,
    queue = 'low-confidence',
  ): Promise<{ sent: number; queue: ReviewQueue; first?: number } | undefined> {
    const log = this.log;
    const name = path.basename(this.doc.uri.fsPath);
    const store = this.doc.store;
    const op = createReviewQueueOperation((_file, signal) => () => datasetLines(store, signal));
    const q = await runWithProgress(
      op,
      op.options.parse({ file: this.doc.uri.fsPath, minConfidence, queue }),
      {
        title: `Finding low-confidence records in ${name}`,
        cancelled: `Sending records of ${name} to review was cancelled; nothing changed.`,
      },
      log,
    );
    if (!q) return undefined;
    const fresh = q.indices.filter((i) => {
      const v = store.line(i).value;
      return !!v && !inReviewQueue(v, queue);
    });
    if (fresh.length) this.doc.setFields(markForReview(fresh, queue), `Send ${fresh.length} record(s) to review`);
    const sent = fresh.length;
    await this.queueLive.current(); // the editor shows the count next
    log.info(
      `${name}: ${q.indices.length} record(s) below confidence ${minConfidence} (or without one) for review in '${queue}', ${sent} newly sent; ${q.automatic} left to the model, ${q.skipped} skipped`,
    );
    return { sent, queue: q, ...(q.indices.length ? { first: q.indices[0] as number } : {}) };
  }
}

/** The assessment state of every open document, and the pieces that need VS Code (settings, secrets). */
export class AssessmentHub {
  private readonly byDoc = new WeakMap<DatasetDocument, DocumentAssessment>();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: Log,
    private readonly post: (doc: DatasetDocument, message: HostEvent) => void,
  ) {}

  for(doc: DatasetDocument): DocumentAssessment {
    let a = this.byDoc.get(doc);
    if (!a) {
      const made = new DocumentAssessment(doc, this.log);
      this.byDoc.set(doc, made);
      doc.onDidDispose(() => made.dispose());
      a = made;
    }
    return a;
  }

  /** Asks the document's editor for a view (kept until the webview says it shows it). */
  show(doc: DatasetDocument, mode: ViewMode, focus?: number): void {
    const event: Extract<HostEvent, { type: 'show' }> = {
      kind: 'event',
      type: 'show',
      mode,
      ...(focus !== undefined ? { focus } : {}),
    };
    this.for(doc).pendingShow = event;
    this.post(doc, event);
  }

  /** The webview reports the view it shows: a pending request for that view is done. */
  shown(doc: DatasetDocument, mode: ViewMode): void {
    const a = this.byDoc.get(doc);
    if (a?.pendingShow?.mode === mode) a.pendingShow = undefined;
  }

  /** The embedder for semantic duplicates, from the endpoint settings and the key; undefined when the user was told why not. */
  async embedder(doc: DatasetDocument, model?: string): Promise<(Embedder & { close(): void }) | undefined> {
    const s = await endpointFor(doc.uri, this.context, this.log);
    if (!s) return undefined;
    const m = model || s.embeddingModel;
    if (!m || /^YOUR-/.test(m)) {
      void vscode.window.showErrorMessage('Set the embeddings model first (datasetCurator.llm.embeddingModel).');
      return undefined;
    }
    return embedderFor({
      baseURL: s.baseUrl,
      apiKey: await apiKey(this.context.secrets),
      model: m,
      dataset: doc.uri.fsPath,
      ...(s.cacheDir ? { cacheDir: s.cacheDir } : {}),
      concurrency: Math.min(4, s.concurrency),
      timeoutSeconds: s.timeoutSeconds,
      requestsPerMinute: s.requestsPerMinute,
      tokensPerMinute: s.tokensPerMinute,
      log: (l) => this.log.info(l),
    });
  }

  findDuplicates(doc: DatasetDocument, search: DuplicateSearch): Promise<DuplicatesPayload | undefined> {
    const s =
      search.method === 'semantic' && !search.embeddingModel
        ? { ...search, embeddingModel: readEndpointSettings(doc.uri).embeddingModel }
        : search;
    return this.for(doc).findDuplicates(s, () => this.embedder(doc, s.embeddingModel));
  }
}
