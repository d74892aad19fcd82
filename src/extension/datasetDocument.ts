// The curation editor's document: a JsonlDataset from the core store, whose edit overlay is the
// document's state, and the core's editor session over it (what the page shows: records, rows,
// labels, searches). This file keeps what is VS Code's: each user edit is one store edit pushed on
// VS Code's undo stack with its inverse; backups are the applied edits, replayed on restore; the
// file watcher and the dialogs.
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { ConflictError, JsonlDataset, LockedError, invertEdit, type Edit } from '../core/store';
import { MatchIndexes } from '../core/match-index';
import { writeLinesAtomic } from '../core/write-lines';
import { EditorSession } from '../core/session/session';
import { editorStats } from '../core/session/stats';
import type { EditRequest, RecordPayload, StatsPayload } from '../core/session/views';
import { annotatorFor } from './annotator';
import { disagreementThreshold, setting } from './settings';
import { declaredQuestions } from './questions';
import type { Log } from './log';

/** The questions the document asks the user; tests replace them to answer without a dialog. */
export interface Prompts {
  externalChangeWhileDirty(fileName: string): Promise<'reload' | 'keep'>;
  /** The file was rewritten in place while there were edits: they were written to `aside`. True: open it. */
  editsSetAside(fileName: string, aside: string, lines: number): Promise<boolean>;
  saveConflict(fileName: string): Promise<'overwrite' | 'revert' | 'cancel'>;
}

/** The longest a large file's scan (and the folder's clean-up) waits for the editor's page to say it is on screen. */
const SCAN_DEFER_MS = 1000;

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
      {
        modal: true,
        detail:
          'Overwrite replaces the file on disk with your version. Revert discards your edits and loads the file from disk.',
      },
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

/**
 * A change of a document's content: the record to show, if any; `background` for a job's results
 * and the index completing (not the person's own doing); `edited` and `by` for an edit a page made
 * (that page already has the edited record: it is told so, not sent it again).
 */
export interface ContentChange {
  focus?: number;
  background?: boolean;
  edited?: number;
  by?: unknown;
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
  private contentGeneration = 0;
  private readonly watcher: vscode.FileSystemWatcher;
  private reloading = false;
  /** The record the curation editor shows (0-based). */
  currentIndex = 0;
  /** How many times the file changed on disk while dirty (the user was asked each time). */
  externalChanges = 0;
  /** The matches of recent searches, kept up to date through edits. */
  private readonly matchIndexes = new MatchIndexes(
    () => this.dataset,
    4,
    () => ({ disagreement: disagreementThreshold(this.uri) }),
  );
  /** What the editor's page shows: records, rows, the outline, the label set, searches. */
  readonly session = new EditorSession<Edit>(() => this.dataset, {
    fileName: () => path.basename(this.uri.fsPath),
    dirty: () => this.isDirty,
    configuredLabels: () => setting('labels', this.uri),
    disagreement: () => disagreementThreshold(this.uri),
    matches: (q) => this.matchIndexes.get(q),
    questions: () => declaredQuestions(this.uri.fsPath),
  });

  private constructor(
    readonly uri: vscode.Uri,
    private dataset: JsonlDataset,
    private readonly log: Log,
    private readonly prompts: () => Prompts,
  ) {
    void dataset.indexDone.then(
      () => {
        const where = { worker: 'by the scan worker', thread: 'in the extension host thread', open: 'at open' }[
          dataset.indexedBy
        ];
        this.log.info(`${path.basename(uri.fsPath)}: ${dataset.lineCount} lines indexed ${where}`);
        this.contentChanged.fire({ background: true });
      },
      (err: unknown) => this.log.error(`Indexing ${uri.fsPath} failed`, err),
    );
    this.watcher = watchFile(uri);
    const mine = (changed: vscode.Uri) => {
      if (changed.fsPath !== uri.fsPath) return;
      this.onDiskChange().catch((err: unknown) =>
        this.log.error(`${path.basename(uri.fsPath)} changed on disk, and reading it again failed`, err),
      );
    };
    this.watcher.onDidChange(mine);
    this.watcher.onDidCreate(mine);
  }

  static async open(
    uri: vscode.Uri,
    backupId: string | undefined,
    log: Log,
    prompts: () => Prompts,
  ): Promise<DatasetDocument> {
    // The rest of a large file is indexed once the editor is on screen (startIndexing): a scan
    // worker would take one of the machine's cores while VS Code builds the webview. So are the
    // stale temps of its folder removed (a read of the folder, long in a folder of many files).
    const dataset = await JsonlDataset.open(uri.fsPath, { deferScan: true, deferCleanup: true });
    const doc = new DatasetDocument(uri, dataset, log, prompts);
    setTimeout(() => doc.startIndexing(), SCAN_DEFER_MS);
    if (backupId) await doc.restoreBackup(vscode.Uri.parse(backupId));
    return doc;
  }

  get store(): JsonlDataset {
    return this.dataset;
  }

  get isDirty(): boolean {
    return this.version !== this.savedVersion;
  }

  /** Indexes the rest of the file now if its scan still waits (the editor's page is on screen); cleans its folder's stale temps. */
  startIndexing(): void {
    this.dataset.startScan();
  }

  stats(): Promise<StatsPayload> {
    return editorStats(this.dataset, disagreementThreshold(this.uri));
  }

  /**
   * Applies a person's edit as one undoable step; returns the updated record. `by`: the page that
   * made it (its `changed` says so instead of making it fetch the record again).
   */
  edit(req: EditRequest, by?: unknown): RecordPayload {
    const { edit, label } = this.session.edit(req, new Date(), annotatorFor(this.uri));
    this.pushEdits([edit], label, req.index, by);
    return this.session.record(req.index);
  }

  /** Already-applied store edits as one step of VS Code's undo stack. */
  private pushEdits(edits: Edit[], label: string, index: number | undefined, by?: unknown): void {
    if (edits.length === 0) return;
    this.applied.push(...edits);
    this.version++;
    this.matchIndexes.applied(edits);
    this.session.changed(edits);
    this.storeChanged.fire(edits);
    this.contentChanged.fire(
      by !== undefined && index !== undefined ? { focus: index, edited: index, by } : { focus: index },
    );
    this.editEmitter.fire({
      document: this,
      label,
      // During a save (the person's, or a long job's in between) the store takes no edit: wait for it.
      undo: async () => {
        await this.dataset.saveSettled();
        for (const e of [...edits].reverse()) this.dataset.undoEdit(e);
        this.applied.splice(this.applied.length - edits.length, edits.length);
        this.version--;
        this.matchIndexes.applied([...edits].reverse().map(invertEdit));
        this.session.changed([...edits].reverse().map(invertEdit));
        this.storeChanged.fire([...edits].reverse().map(invertEdit));
        this.contentChanged.fire({
          focus: index === undefined ? undefined : Math.min(index, Math.max(0, this.dataset.lineCount - 1)),
        });
      },
      redo: async () => {
        await this.dataset.saveSettled();
        for (const e of edits) this.dataset.applyEdit(e);
        this.applied.push(...edits);
        this.version++;
        this.matchIndexes.applied(edits);
        this.session.changed(edits);
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
    const changes = edits ?? (index === undefined ? undefined : [{ type: 'replace' as const, index }]);
    if (changes) this.matchIndexes.applied(changes);
    else this.matchIndexes.reset();
    this.session.changed(changes);
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
      // Another writer holding the lock past the wait is not a change to overwrite: VS Code shows the message, the edits stay.
      if (err instanceof ConflictError && !(err instanceof LockedError)) {
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

  /**
   * The content's generation: one more at each revert and reload from disk (the content replaced,
   * not edited). The editor's page sends it with each edit; an edit from an older generation was
   * typed before the revert and is refused (see the protocol's Generation).
   */
  get generation(): number {
    return this.contentGeneration;
  }

  async revert(): Promise<void> {
    // Before the wait: an edit arriving while the file is read again was made before the revert.
    this.contentGeneration++;
    await this.dataset.revert();
    this.matchIndexes.reset();
    this.applied = [];
    this.version = this.savedVersion;
    this.session.changed();
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
    const body = JSON.parse(raw) as Partial<BackupFile>; // a file on disk: checked below
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
    if (this.reloading || this.isClosed()) return;
    if (!(await this.dataset.hasChangedOnDisk())) return; // our own save, or a touch
    // Closed meanwhile (its editor closed while the change was being looked at): nothing to show it in.
    if (this.isClosed()) return;
    if (!existsSync(this.uri.fsPath)) {
      // Changed, then deleted (a save by another program, then a clean-up): there is nothing to
      // read again; the editor keeps the records it has.
      this.log.info(`${path.basename(this.uri.fsPath)} was deleted on disk: the editor keeps its records`);
      return;
    }
    this.log.info(`${this.uri.fsPath} changed on disk${this.isDirty ? ' while there are unsaved edits' : ''}`);
    this.reloading = true;
    try {
      const name = path.basename(this.uri.fsPath);
      if (!this.isDirty) {
        this.contentGeneration++;
        await this.dataset.revert();
        this.matchIndexes.reset();
        this.applied = [];
        this.session.changed();
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
        void this.prompts()
          .editsSetAside(name, aside.file, aside.lines)
          .then((open) => {
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
      seg.lines.forEach((l, k) =>
        out.push(JSON.stringify({ line: seg.logicalStart + k + 1, text: l.bytes.toString('utf8') })),
      );
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const file = path.join(
      path.dirname(this.uri.fsPath),
      `${path.basename(this.uri.fsPath, '.jsonl')}.unsaved-edits-${stamp}.jsonl`,
    );
    await writeLinesAtomic(file, out);
    return { file, lines: out.length };
  }

  /** Disposed: its editor closed and its dataset with it. */
  private closed = false;
  /** (A method: read again after an await, where a property check would be narrowed away.) */
  private isClosed(): boolean {
    return this.closed;
  }

  dispose(): void {
    this.closed = true;
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

/**
 * A watcher that sees other programs change the file. Inside the workspace it rides on the
 * workspace's own watcher (a glob string; events are filtered to this file): a RelativePattern on
 * the file's folder missed changes made outside VS Code in the code-server build. Outside the
 * workspace, a watcher on the folder.
 */
function watchFile(uri: vscode.Uri): vscode.FileSystemWatcher {
  const name = path.basename(uri.fsPath).replace(/[[\]{}*?!]/g, (c) => `[${c}]`);
  if (vscode.workspace.getWorkspaceFolder(uri))
    return vscode.workspace.createFileSystemWatcher(`**/${name}`, false, false, true);
  return vscode.workspace.createFileSystemWatcher(
    new vscode.RelativePattern(vscode.Uri.file(path.dirname(uri.fsPath)), path.basename(uri.fsPath)),
    false,
    false,
    true,
  );
}

function abortOn(token: vscode.CancellationToken | undefined): AbortController {
  const ac = new AbortController();
  token?.onCancellationRequested(() => ac.abort());
  return ac;
}
