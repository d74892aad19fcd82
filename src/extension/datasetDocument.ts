// The curation editor's document model: a JsonlDataset from the core store, whose edit overlay is
// the document's state. Each user edit is one store edit, pushed on VS Code's undo stack with its
// inverse; backups are the list of applied edits, replayed on restore.
import * as vscode from 'vscode';
import * as path from 'node:path';
import { ConflictError, JsonlDataset, computeStats, invertEdit, type Edit } from '../core/store';
import { matchesQuery, recordAnnotation } from '../core/query';
import { defaultFields } from '../core/schema/annotation';
import { applyAnnotationEdit } from '../core/annotate-edits';
import { judgesSummary } from '../core/metrics/judges';
import { disagreementThreshold } from './settings';
import type {
  AnnotationView,
  DocumentInfo,
  EditRequest,
  ParsedParams,
  RecordPayload,
  RowPayload,
  StatsPayload,
} from '../shared/protocol';
import type { Log } from './log';

/** The questions the document asks the user; tests replace them to answer without a dialog. */
export interface Prompts {
  externalChangeWhileDirty(fileName: string): Promise<'reload' | 'keep'>;
  saveConflict(fileName: string): Promise<'overwrite' | 'revert' | 'cancel'>;
}

export const dialogPrompts: Prompts = {
  async externalChangeWhileDirty(name) {
    const choice = await vscode.window.showWarningMessage(
      `${name} changed on disk, and you have unsaved edits in the Curation Editor.`,
      'Reload from Disk (discard my edits)',
      'Keep My Edits',
    );
    return choice?.startsWith('Reload') ? 'reload' : 'keep';
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

export class DatasetDocument implements vscode.CustomDocument {
  private readonly contentChanged = new vscode.EventEmitter<number | undefined>();
  /** Fires after edits, undo, redo, revert and reload, with the record to show when there is one. */
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

  private constructor(
    readonly uri: vscode.Uri,
    private dataset: JsonlDataset,
    private readonly log: Log,
    private readonly prompts: () => Prompts,
  ) {
    void dataset.ready.then(
      () => this.contentChanged.fire(undefined),
      (err: unknown) => this.log.error(`Indexing ${uri.fsPath} failed`, err),
    );
    this.watcher = vscode.workspace.createFileSystemWatcher(
      new vscode.RelativePattern(vscode.Uri.file(path.dirname(uri.fsPath)), path.basename(uri.fsPath)),
    );
    this.watcher.onDidChange(() => void this.onDiskChange());
    this.watcher.onDidCreate(() => void this.onDiskChange());
  }

  static async open(uri: vscode.Uri, backupId: string | undefined, log: Log, prompts: () => Prompts): Promise<DatasetDocument> {
    const dataset = await JsonlDataset.open(uri.fsPath);
    const doc = new DatasetDocument(uri, dataset, log, prompts);
    if (backupId) await doc.restoreBackup(vscode.Uri.parse(backupId));
    return doc;
  }

  get store(): JsonlDataset {
    return this.dataset;
  }

  get isDirty(): boolean {
    return this.version !== this.savedVersion;
  }

  info(): DocumentInfo {
    return {
      fileName: path.basename(this.uri.fsPath),
      lineCount: this.dataset.lineCount,
      indexed: this.dataset.indexed,
      labels: this.labels(),
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
      edited: line.edited,
    };
  }

  rows(start: number, count: number, columns: string[]): RowPayload[] {
    const end = Math.min(this.dataset.lineCount, start + count);
    const out: RowPayload[] = [];
    for (let i = start; i < end; i++) {
      const line = this.dataset.line(i);
      const value = isObject(line.value) ? line.value : undefined;
      const ann = value ? recordAnnotation(value) : undefined;
      out.push({
        index: i,
        lineNumber: i + 1,
        cells: columns.map((c) => cellText(value ? getPath(value, c) : c === 'raw' ? line.raw : undefined)),
        label: ann?.label,
        score: ann?.judge?.score,
        reviewStatus: ann?.reviewStatus,
        invalid: !!line.invalid,
      });
    }
    return out;
  }

  search(p: ParsedParams<'search'>): { matches: number[]; total?: number } {
    const matches: number[] = [];
    const n = this.dataset.lineCount;
    const test = matchesQuery(p.query, { disagreement: disagreementThreshold(this.uri) });
    const forward = p.direction === 'forward';
    let scannedAll = true;
    let total = 0;
    for (let k = 0; k < n; k++) {
      const i = forward ? (p.from + k) % n : (p.from - k + n * 2) % n;
      const line = this.dataset.line(i);
      if (test(line)) {
        total++;
        if (matches.length < p.limit) matches.push(i);
      }
      if (matches.length >= p.limit && total > p.limit) {
        scannedAll = false;
        break;
      }
    }
    return scannedAll ? { matches, total } : { matches };
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
        const next = applyAnnotationEdit(value, req);
        edit = this.dataset.replaceLine(req.index, next);
        label = req.op === 'relabel' ? `Relabel as ${req.label}` : req.op === 'accept' ? 'Accept suggestion' : req.op === 'reject' ? 'Reject suggestion' : `Mark ${req.status}`;
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
    this.invalidateLabels();
    this.storeChanged.fire(edits);
    this.contentChanged.fire(index);
    this.editEmitter.fire({
      document: this,
      label,
      undo: () => {
        for (const e of [...edits].reverse()) this.dataset.undoEdit(e);
        this.applied.splice(this.applied.length - edits.length, edits.length);
        this.version--;
        this.invalidateLabels();
        this.storeChanged.fire([...edits].reverse().map(invertEdit));
        this.contentChanged.fire(index === undefined ? undefined : Math.min(index, Math.max(0, this.dataset.lineCount - 1)));
      },
      redo: () => {
        for (const e of edits) this.dataset.applyEdit(e);
        this.applied.push(...edits);
        this.version++;
        this.invalidateLabels();
        this.storeChanged.fire(edits);
        this.contentChanged.fire(index);
      },
    });
  }

  /** The store changed behind VS Code's undo stack (a job wrote and saved results): refresh. `edits`: what was applied, when known. */
  notifyChanged(index: number | undefined, edits?: readonly Edit[]): void {
    this.invalidateLabels();
    this.storeChanged.fire(edits);
    this.contentChanged.fire(index);
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
    this.contentChanged.fire(undefined);
  }

  async saveAs(destination: vscode.Uri, cancellation?: vscode.CancellationToken): Promise<void> {
    const ac = abortOn(cancellation);
    await this.dataset.saveAs(destination.fsPath, { signal: ac.signal });
  }

  async revert(): Promise<void> {
    await this.dataset.revert();
    this.applied = [];
    this.version = this.savedVersion;
    this.invalidateLabels();
    this.storeChanged.fire(undefined);
    this.contentChanged.fire(undefined);
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
    // Restored edits are unsaved changes, but have no undo entries in this session.
    this.version = this.savedVersion + (body.edits.length > 0 ? 1 : 0);
    this.log.info(`Restored ${body.edits.length} unsaved edit(s) of ${this.uri.fsPath} from a backup`);
  }

  private async onDiskChange(): Promise<void> {
    if (this.reloading) return;
    if (!(await this.dataset.hasChangedOnDisk())) return; // our own save, or a touch
    this.reloading = true;
    try {
      const name = path.basename(this.uri.fsPath);
      if (!this.isDirty) {
        await this.dataset.revert();
        this.applied = [];
        this.invalidateLabels();
        this.storeChanged.fire(undefined);
        this.contentChanged.fire(undefined);
        this.log.info(`${name} changed on disk: reloaded`);
        return;
      }
      this.externalChanges++;
      if ((await this.prompts().externalChangeWhileDirty(name)) === 'reload') {
        // Through VS Code, so that it also drops its undo stack and dirty marker.
        await vscode.commands.executeCommand('workbench.action.files.revert', this.uri);
      }
    } finally {
      this.reloading = false;
    }
  }

  /** The label set: the `datasetCurator.labels` setting, else the labels seen in the file. */
  labels(): string[] {
    const configured = vscode.workspace.getConfiguration('datasetCurator', this.uri).get<string[]>('labels', []);
    if (configured.length > 0) return configured;
    if (this.labelSet) return this.labelSet;
    const seen = new Set<string>();
    const n = Math.min(this.dataset.lineCount, 2000);
    for (let i = 0; i < n; i++) {
      const v = this.dataset.line(i).value;
      if (!isObject(v)) continue;
      const ann = recordAnnotation(v);
      if (ann.label) seen.add(ann.label);
      for (const s of ann.suggestions) if (s.question === 'label' && typeof s.value === 'string') seen.add(s.value);
    }
    this.labelSet = [...seen].sort();
    return this.labelSet;
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
    this.dataset.close();
  }
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
