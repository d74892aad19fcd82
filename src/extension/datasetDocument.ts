// The curation editor's document model: a JsonlDataset from the core store, whose edit overlay is
// the document's state. Each user edit is one store edit, pushed on VS Code's undo stack with its
// inverse; backups are the list of applied edits, replayed on restore.
import * as vscode from 'vscode';
import * as path from 'node:path';
import { ConflictError, JsonlDataset, computeStats, invertEdit, type Edit } from '../core/store';
import { MatchIndexes } from '../core/match-index';
import { writeLinesAtomic } from '../core/write-lines';
import { recordAnnotation } from '../core/query';
import { defaultFields, originOf } from '../core/schema/annotation';
import { applyAnnotationEdit } from '../core/annotate-edits';
import { annotatorFor } from './annotator';
import { judgesSummary } from '../core/metrics/judges';
import { disagreementThreshold } from './settings';
import { isPreference, readPreference } from '../core/schema/preference';
import type {
  AnnotationView,
  DocumentInfo,
  EditRequest,
  OriginView,
  ParsedParams,
  RecordPayload,
  RequestResult,
  RowPayload,
  StatsPayload,
} from '../shared/protocol';
import type { Log } from './log';

/** The questions the document asks the user; tests replace them to answer without a dialog. */
export interface Prompts {
  externalChangeWhileDirty(fileName: string): Promise<'reload' | 'keep'>;
  /** The file was rewritten in place while there were edits: they were written to `aside`. True: open it. */
  editsSetAside(fileName: string, aside: string, lines: number): Promise<boolean>;
  saveConflict(fileName: string): Promise<'overwrite' | 'revert' | 'cancel'>;
}

/** The longest a large file's scan waits for the editor's page to say it is on screen. */
const SCAN_DEFER_MS = 1000;
/** Bytes of records the page's embedded init takes its quick label set from. */
const QUICK_LABEL_BYTES = 64 * 1024;

export const dialogPrompts: Prompts = {
  async externalChangeWhileDirty(name) {
    const choice = await vscode.window.showWarningMessage(
      `${name} changed on disk, and you have unsaved edits in the Curation Editor.`,
      'Reload from Disk (discard my edits)',
      'Keep My Edits',
    );
    return choice?.startsWith('Reload') ? 'reload' : 'keep';
  },
  async editsSetAside(name, aside, lines) {
    const choice = await vscode.window.showWarningMessage(
      `${name} was rewritten in place by another program while you had unsaved edits; the lines around them are gone, so the editor now shows the new content. Your ${lines} edited line(s) were saved to ${path.basename(aside)}.`,
      'Open Saved Edits',
    );
    return choice === 'Open Saved Edits';
  },
  async saveConflict(name) {
    const choice = await vscode.window.showWarningMessage(
      `${name} changed on disk since it was opened. Your edits were not saved.`,
      { modal: true, detail: 'Overwrite replaces the file on disk with your version. Revert discards your edits and loads the file from disk.' },
      'Overwrite',
      'Revert',
    );
    return choice === 'Overwrite' ? 'overwrite' : choice === 'Revert' ? 'revert' : 'cancel';
  },
};

interface BackupFile {
  version: 1;
  file: string;
  edits: Edit[];
}

/** A change of a document's content: the record to show, if any; `background` for a job's results and the index completing (not the person's own doing). */
export interface ContentChange {
  focus?: number;
  background?: boolean;
}

export class DatasetDocument implements vscode.CustomDocument {
  private readonly contentChanged = new vscode.EventEmitter<ContentChange>();
  /** Fires after edits, undo, redo, save, revert, reload and a job's results, with the record to show when there is one. */
  readonly onDidChangeContent = this.contentChanged.event;
  private readonly editEmitter = new vscode.EventEmitter<vscode.CustomDocumentEditEvent<DatasetDocument>>();
  readonly onDidEdit = this.editEmitter.event;
  private readonly disposed = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposed.event;
  private readonly storeChanged = new vscode.EventEmitter<readonly Edit[] | undefined>();
  /**
   * The store edits just applied, in order (an undo passes their inverses, last first), for views
   * that keep figures live edit by edit; undefined when the content changed in a way no edit
   * describes (revert, reload from disk): recount.
   */
  readonly onDidChangeStore = this.storeChanged.event;
  /** The store edits applied now, in order (the undo stack's live part): what a backup holds. */
  private applied: Edit[] = [];
  private savedVersion = 0;
  private version = 0;
  private labelSet: string[] | undefined;
  private readonly watcher: vscode.FileSystemWatcher;
  private reloading = false;
  /** The record the curation editor shows (0-based). */
  currentIndex = 0;
  /** How many times the file changed on disk while dirty (the user was asked each time). */
  externalChanges = 0;
  /** The matches of recent searches, kept up to date through edits. */
  private readonly matchIndexes = new MatchIndexes(() => this.dataset, 4, () => ({ disagreement: disagreementThreshold(this.uri) }));

  private constructor(
    readonly uri: vscode.Uri,
    private dataset: JsonlDataset,
    private readonly log: Log,
    private readonly prompts: () => Prompts,
  ) {
    void dataset.indexDone.then(
      () => {
        const where = { worker: 'by the scan worker', thread: 'in the extension host thread', open: 'at open' }[dataset.indexedBy];
        this.log.info(`${path.basename(uri.fsPath)}: ${dataset.lineCount} lines indexed ${where}`);
        this.contentChanged.fire({ background: true });
      },
      (err: unknown) => this.log.error(`Indexing ${uri.fsPath} failed`, err),
    );
    this.watcher = watchFile(uri);
    const mine = (changed: vscode.Uri) => {
      if (changed.fsPath === uri.fsPath) void this.onDiskChange();
    };
    this.watcher.onDidChange(mine);
    this.watcher.onDidCreate(mine);
  }

  static async open(uri: vscode.Uri, backupId: string | undefined, log: Log, prompts: () => Prompts): Promise<DatasetDocument> {
    // The rest of a large file is indexed once the editor is on screen (startIndexing): a scan
    // worker would take one of the machine's cores while VS Code builds the webview.
    const dataset = await JsonlDataset.open(uri.fsPath, { deferScan: true });
    const doc = new DatasetDocument(uri, dataset, log, prompts);
    if (dataset.scanDeferred) setTimeout(() => doc.startIndexing(), SCAN_DEFER_MS);
    if (backupId) await doc.restoreBackup(vscode.Uri.parse(backupId));
    return doc;
  }

  get store(): JsonlDataset {
    return this.dataset;
  }

  get isDirty(): boolean {
    return this.version !== this.savedVersion;
  }

  /** Indexes the rest of the file now if its scan still waits (the editor's page is on screen). */
  startIndexing(): void {
    this.dataset.startScan();
  }

  /**
   * The document's outline for the webview. `quick` (for the page's embedded init) takes the
   * labels seen in the first records only (QUICK_LABEL_BYTES); the full set follows with the
   * webview's `ready`.
   */
  info(opts: { quick?: boolean } = {}): DocumentInfo {
    return {
      fileName: path.basename(this.uri.fsPath),
      lineCount: this.dataset.lineCount,
      indexed: this.dataset.indexed,
      labels: this.labels(opts.quick ? QUICK_LABEL_BYTES : undefined),
      dirty: this.isDirty,
      columns: this.columns(),
    };
  }

  record(index: number): RecordPayload {
    this.checkIndex(index);
    const line = this.dataset.line(index);
    const value = isObject(line.value) ? line.value : undefined;
    const annotation: AnnotationView | undefined = value ? recordAnnotation(value, { disagreement: disagreementThreshold(this.uri) }) : undefined;
    return {
      index,
      lineNumber: index + 1,
      raw: line.raw,
      value,
      invalid: line.invalid,
      lossy: line.lossy,
      annotation,
      annotationFields: Object.values(defaultFields),
      ...(value && isPreference(value) ? { preference: readPreference(value) } : {}),
      ...(value ? originView(value) : {}),
      edited: line.edited,
    };
  }

  rows(start: number, count: number, columns: string[]): RowPayload[] {
    const out: RowPayload[] = [];
    for (let i = start, end = Math.min(this.dataset.lineCount, start + count); i < end; i++) out.push(this.row(i, columns));
    return out;
  }

  private row(i: number, columns: string[]): RowPayload {
    const line = this.dataset.line(i);
    const value = isObject(line.value) ? line.value : undefined;
    const ann = value ? recordAnnotation(value) : undefined;
    return {
      index: i,
      lineNumber: i + 1,
      cells: columns.map((c) => cellText(value ? getPath(value, c) : c === 'raw' ? line.raw : undefined)),
      label: ann?.label,
      score: ann?.judge?.score,
      reviewStatus: ann?.reviewStatus,
      invalid: !!line.invalid,
    };
  }

  /**
   * Matches from `from` in `direction`, wrapping around the file, at most `limit`; `total` when
   * the whole file is searched. Answered from the query's match index (built in slices, so the
   * extension host stays responsive on large files), waiting only as far as the answer needs.
   */
  async search(p: ParsedParams<'search'>): Promise<{ matches: number[]; total?: number }> {
    const n = this.dataset.lineCount;
    if (n === 0) return { matches: [], total: 0 };
    const m = this.matchIndexes.get(p.query);
    const from = Math.min(p.from, n - 1);
    let out: number[];
    if (p.direction === 'forward') {
      await m.found(from, p.limit);
      out = m.slice(m.lowerBound(from), p.limit);
      if (out.length < p.limit) {
        await m.whenDone();
        out.push(...m.slice(0, Math.min(p.limit - out.length, m.lowerBound(from))));
      }
    } else {
      await m.scannedPast(from);
      const found: number[] = [];
      const down = (hi: number, stop: number) => {
        for (let k = hi - 1; k >= stop && found.length < p.limit; k--) found.push(m.at(k)!);
      };
      down(m.lowerBound(from + 1), 0);
      if (found.length < p.limit) {
        await m.whenDone();
        down(m.count, m.lowerBound(from + 1));
      }
      out = found;
    }
    return m.done ? { matches: out, total: m.count } : { matches: out };
  }

  /** Rows of the matches [start, start + count) found so far, and how far the search is. */
  matchRows(p: ParsedParams<'getMatchRows'>): RequestResult<'getMatchRows'> {
    const m = this.matchIndexes.get(p.query);
    return { rows: m.slice(p.start, p.count).map((i) => this.row(i, p.columns)), ...m.progress() };
  }

  /** The position among the matches of the first match at or after record `index`. */
  async matchPosition(p: ParsedParams<'matchPosition'>): Promise<RequestResult<'matchPosition'>> {
    const m = this.matchIndexes.get(p.query);
    if (p.wait) await m.found(p.index, 1);
    const position = m.lowerBound(p.index);
    return { position, exact: m.at(position) === p.index, ...m.progress() };
  }

  async stats(): Promise<StatsPayload> {
    await this.dataset.ready;
    const s = await computeStats(this.dataset);
    return { ...s, meanScore: s.meanScore ?? undefined, judges: s.scored > 0 ? await this.judgesStats() : undefined };
  }

  /** Agreement between the judges over the file (only the judges are kept while reading). */
  private async judgesStats(): Promise<StatsPayload['judges']> {
    const judged: Record<string, unknown>[] = [];
    const field = defaultFields.judges;
    for (let i = 0; i < this.dataset.lineCount; i++) {
      if ((i & 0x7ff) === 0x7ff) await new Promise((r) => setImmediate(r));
      if (i >= this.dataset.lineCount) break; // edited while we yielded
      const v = this.dataset.line(i).value;
      if (isObject(v) && Array.isArray(v[field]) && v[field].length > 1) judged.push({ [field]: v[field] });
    }
    if (judged.length === 0) return undefined;
    return judgesSummary(judged, disagreementThreshold(this.uri));
  }

  /** Applies a user's edit as one undoable step; returns the updated record. */
  edit(req: EditRequest): RecordPayload {
    this.checkIndex(req.index);
    const line = this.dataset.line(req.index);
    let edit: Edit;
    let label: string;
    if (req.op === 'replaceRaw') {
      edit = this.dataset.replaceLine(req.index, { raw: req.raw });
      label = `Edit line ${req.index + 1}`;
    } else {
      if (line.invalid) throw new Error(`Line ${req.index + 1} is not a valid record (${line.invalid.reason}); edit it as raw JSON instead.`);
      if (line.lossy) throw new Error(`Line ${req.index + 1} cannot be edited field by field without losing information (${line.lossy.reason}); edit it as raw JSON instead.`);
      const value = line.value as Record<string, unknown>;
      if (req.op === 'setField') {
        edit = this.dataset.setField(req.index, req.path, req.value);
        label = `Set ${req.path.join('.')}`;
      } else {
        const next = applyAnnotationEdit(value, req, new Date(), annotatorFor(this.uri));
        edit = this.dataset.replaceLine(req.index, next);
        label = editLabel(req);
      }
    }
    this.pushEdit(edit, label, req.index);
    return this.record(req.index);
  }

  private pushEdit(edit: Edit, label: string, index: number): void {
    this.pushEdits([edit], label, index);
  }

  /** Already-applied store edits as one step of VS Code's undo stack. */
  private pushEdits(edits: Edit[], label: string, index: number | undefined): void {
    if (edits.length === 0) return;
    this.applied.push(...edits);
    this.version++;
    this.matchIndexes.applied(edits);
    this.invalidateLabels();
    this.storeChanged.fire(edits);
    this.contentChanged.fire({ focus: index });
    this.editEmitter.fire({
      document: this,
      label,
      undo: () => {
        for (const e of [...edits].reverse()) this.dataset.undoEdit(e);
        this.applied.splice(this.applied.length - edits.length, edits.length);
        this.version--;
        this.matchIndexes.applied([...edits].reverse().map(invertEdit));
        this.invalidateLabels();
        this.storeChanged.fire([...edits].reverse().map(invertEdit));
        this.contentChanged.fire({ focus: index === undefined ? undefined : Math.min(index, Math.max(0, this.dataset.lineCount - 1)) });
      },
      redo: () => {
        for (const e of edits) this.dataset.applyEdit(e);
        this.applied.push(...edits);
        this.version++;
        this.matchIndexes.applied(edits);
        this.invalidateLabels();
        this.storeChanged.fire(edits);
        this.contentChanged.fire({ focus: index });
      },
    });
  }

  /**
   * The store changed behind VS Code's undo stack (a job wrote and saved results): refresh, and
   * keep the user where they are (a job's results arrive in any order; the editor does not follow
   * them around the file). `edits`: what was applied, when known.
   */
  notifyChanged(index: number | undefined, edits?: readonly Edit[]): void {
    if (edits) this.matchIndexes.applied(edits);
    else if (index === undefined) this.matchIndexes.reset();
    else this.matchIndexes.applied([{ type: 'replace', index }]);
    this.invalidateLabels();
    this.storeChanged.fire(edits);
    this.contentChanged.fire({ background: true });
  }

  /** Field edits (a filter's tags) as one undoable step. */
  setFields(edits: { index: number; path: (string | number)[]; value: unknown }[], label: string): number {
    const done: Edit[] = [];
    try {
      for (const e of edits) done.push(this.dataset.setField(e.index, e.path, e.value));
    } catch (err) {
      for (const e of done.reverse()) this.dataset.undoEdit(e);
      throw err;
    }
    this.pushEdits(done, label, undefined);
    return done.length;
  }

  /** Deletes lines (a filter's drops) as one undoable step. */
  deleteLines(indices: number[], label: string): number {
    const done: Edit[] = [];
    for (const i of [...new Set(indices)].sort((a, b) => b - a)) done.push(this.dataset.deleteLine(i));
    this.pushEdits(done, label, undefined);
    return done.length;
  }

  async save(cancellation?: vscode.CancellationToken): Promise<void> {
    const ac = abortOn(cancellation);
    try {
      await this.dataset.save({ signal: ac.signal });
    } catch (err) {
      if (err instanceof ConflictError) {
        const choice = await this.prompts().saveConflict(path.basename(this.uri.fsPath));
        if (choice === 'overwrite') {
          await this.dataset.save({ signal: ac.signal, force: true });
        } else if (choice === 'revert') {
          await this.revert();
          return;
        } else throw err;
      } else throw err;
    }
    this.savedVersion = this.version;
    this.applied = [];
    this.matchIndexes.saved();
    this.contentChanged.fire({});
  }

  async saveAs(destination: vscode.Uri, cancellation?: vscode.CancellationToken): Promise<void> {
    const ac = abortOn(cancellation);
    await this.dataset.saveAs(destination.fsPath, { signal: ac.signal });
  }

  async revert(): Promise<void> {
    await this.dataset.revert();
    this.matchIndexes.reset();
    this.applied = [];
    this.version = this.savedVersion;
    this.invalidateLabels();
    this.storeChanged.fire(undefined);
    this.contentChanged.fire({});
  }

  async backup(destination: vscode.Uri): Promise<vscode.CustomDocumentBackup> {
    const body: BackupFile = { version: 1, file: this.uri.fsPath, edits: this.applied };
    await vscode.workspace.fs.createDirectory(vscode.Uri.joinPath(destination, '..'));
    await vscode.workspace.fs.writeFile(destination, Buffer.from(JSON.stringify(body)));
    return {
      id: destination.toString(),
      delete: () => void vscode.workspace.fs.delete(destination).then(undefined, () => undefined),
    };
  }

  private async restoreBackup(backup: vscode.Uri): Promise<void> {
    const raw = Buffer.from(await vscode.workspace.fs.readFile(backup)).toString('utf8');
    const body = JSON.parse(raw) as BackupFile;
    if (body.version !== 1 || !Array.isArray(body.edits)) throw new Error('Unreadable backup of unsaved changes');
    await this.dataset.ready;
    for (const edit of body.edits) {
      this.dataset.applyEdit(edit);
      this.applied.push(edit);
    }
    this.matchIndexes.reset();
    // Restored edits are unsaved changes, but have no undo entries in this session.
    this.version = this.savedVersion + (body.edits.length > 0 ? 1 : 0);
    this.log.info(`Restored ${body.edits.length} unsaved edit(s) of ${this.uri.fsPath} from a backup`);
  }

  private async onDiskChange(): Promise<void> {
    if (this.reloading) return;
    if (!(await this.dataset.hasChangedOnDisk())) return; // our own save, or a touch
    this.log.info(`${this.uri.fsPath} changed on disk${this.isDirty ? ' while there are unsaved edits' : ''}`);
    this.reloading = true;
    try {
      const name = path.basename(this.uri.fsPath);
      if (!this.isDirty) {
        await this.dataset.revert();
        this.matchIndexes.reset();
        this.applied = [];
        this.invalidateLabels();
        this.storeChanged.fire(undefined);
        this.contentChanged.fire({});
        this.log.info(`${name} changed on disk: reloaded`);
        return;
      }
      this.externalChanges++;
      if (!this.dataset.sourceIntact()) {
        // Rewritten in place: the lines between the edits are gone, so the edits cannot stay in
        // this editor (it would show and save bytes that are no longer those lines). They are
        // written aside, then the editor shows the new content.
        const aside = await this.writeEditsAside();
        await vscode.commands.executeCommand('workbench.action.files.revert', this.uri);
        this.log.warn(`${name} was rewritten in place while there were unsaved edits: they are in ${aside.file}`);
        void this.prompts().editsSetAside(name, aside.file, aside.lines).then((open) => {
          if (open) void vscode.window.showTextDocument(vscode.Uri.file(aside.file));
        });
        return;
      }
      if ((await this.prompts().externalChangeWhileDirty(name)) === 'reload') {
        // Through VS Code, so that it also drops its undo stack and dirty marker.
        await vscode.commands.executeCommand('workbench.action.files.revert', this.uri);
      }
    } finally {
      this.reloading = false;
    }
  }

  /** Writes the edited and added lines, with their line numbers, to a new file beside the dataset. */
  private async writeEditsAside(): Promise<{ file: string; lines: number }> {
    const out: string[] = [];
    for (const seg of this.dataset.segments()) {
      if (seg.kind !== 'lines') continue;
      seg.lines.forEach((l, k) => out.push(JSON.stringify({ line: seg.logicalStart + k + 1, text: l.bytes.toString('utf8') })));
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const file = path.join(path.dirname(this.uri.fsPath), `${path.basename(this.uri.fsPath, '.jsonl')}.unsaved-edits-${stamp}.jsonl`);
    await writeLinesAtomic(file, out);
    return { file, lines: out.length };
  }

  /**
   * The label set: the `datasetCurator.labels` setting, else the labels seen in the file's first
   * 2000 records (or in its first `maxBytes` of records: a quick set).
   */
  labels(maxBytes?: number): string[] {
    const configured = vscode.workspace.getConfiguration('datasetCurator', this.uri).get<string[]>('labels', []);
    if (configured.length > 0) return configured;
    if (this.labelSet) return this.labelSet;
    const seen = new Set<string>();
    const n = Math.min(this.dataset.lineCount, 2000);
    let bytes = 0;
    for (let i = 0; i < n && !(maxBytes !== undefined && bytes >= maxBytes); i++) {
      const line = this.dataset.line(i);
      bytes += line.raw.length;
      const v = line.value;
      if (!isObject(v)) continue;
      const ann = recordAnnotation(v);
      if (ann.label) seen.add(ann.label);
      for (const s of ann.suggestions) if (s.question === 'label' && typeof s.value === 'string') seen.add(s.value);
    }
    const labels = [...seen].sort();
    // Kept once the index is complete: before, the first records are all there is to see.
    if (maxBytes === undefined && this.dataset.indexed) this.labelSet = labels;
    return labels;
  }

  private invalidateLabels(): void {
    this.labelSet = undefined;
  }

  private columns(): string[] {
    const keys = new Set<string>();
    const n = Math.min(this.dataset.lineCount, 50);
    for (let i = 0; i < n; i++) {
      const v = this.dataset.line(i).value;
      if (isObject(v)) for (const k of Object.keys(v)) keys.add(k);
    }
    return [...keys];
  }

  private checkIndex(index: number): void {
    if (index >= this.dataset.lineCount) {
      throw new RangeError(`Line ${index + 1} does not exist: the file has ${this.dataset.lineCount} line(s).`);
    }
  }

  dispose(): void {
    this.disposed.fire();
    this.disposed.dispose();
    this.contentChanged.dispose();
    this.storeChanged.dispose();
    this.editEmitter.dispose();
    this.watcher.dispose();
    this.matchIndexes.dispose();
    this.dataset.close();
  }
}

/** The record's origin for the annotation panel, if it has a valid one. */
function originView(value: Record<string, unknown>): { origin?: OriginView } {
  const o = originOf(value);
  if (!o) return {};
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const view: OriginView = { type: o.type };
  if (o.task) view.task = o.task;
  if (o.model) view.model = o.model;
  if (o.models?.length) view.models = o.models;
  if (o.judge_model) view.judgeModel = o.judge_model;
  if (o.prompt_hash) view.promptHash = o.prompt_hash;
  if (o.round !== undefined) view.round = o.round;
  if (o.persona) view.persona = o.persona;
  if (o.evolution) view.evolution = o.evolution.op;
  if (str(o.time)) view.time = o.time;
  return { origin: view };
}

/** The undo stack's name for an annotation edit. */
function editLabel(req: Exclude<EditRequest, { op: 'setField' } | { op: 'replaceRaw' }>): string {
  switch (req.op) {
    case 'relabel':
      return `Relabel as ${req.label}`;
    case 'accept':
      return 'Accept suggestion';
    case 'reject':
      return 'Reject suggestion';
    case 'setReviewStatus':
      return `Mark ${req.status}`;
    case 'swapPreference':
      return 'Swap chosen and rejected';
  }
}

/**
 * A watcher that sees other programs change the file. Inside the workspace it rides on the
 * workspace's own watcher (a glob string; events are filtered to this file): a RelativePattern on
 * the file's folder missed changes made outside VS Code in the code-server build. Outside the
 * workspace, a watcher on the folder.
 */
function watchFile(uri: vscode.Uri): vscode.FileSystemWatcher {
  const name = path.basename(uri.fsPath).replace(/[[\]{}*?!]/g, (c) => `[${c}]`);
  if (vscode.workspace.getWorkspaceFolder(uri)) return vscode.workspace.createFileSystemWatcher(`**/${name}`, false, false, true);
  return vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(uri.fsPath)), path.basename(uri.fsPath)), false, false, true);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function getPath(value: Record<string, unknown>, dotted: string): unknown {
  let cur: unknown = value;
  for (const part of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function cellText(v: unknown): string {
  if (v === undefined) return '';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  const flat = s.replace(/\s+/g, ' ');
  return flat.length > 300 ? `${flat.slice(0, 299)}…` : flat;
}

function abortOn(token: vscode.CancellationToken | undefined): AbortController {
  const ac = new AbortController();
  token?.onCancellationRequested(() => ac.abort());
  return ac;
}
