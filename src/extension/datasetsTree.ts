// The Datasets view: the workspace's dataset files, each with its record count, annotated share,
// mean judge score and invalid lines, refreshed when files change.
import * as vscode from 'vscode';
import { setting } from './settings';
import * as path from 'node:path';
import { summarizeFile, type FileSummary } from './summaries';
import type { Log } from './log';
import { CurationEditorProvider } from './curationEditor';
import { ParquetPreviewProvider } from './parquetPreview';
import { parquetInfo } from '../core/formats/parquet';

/** The files the view lists: JSONL (and .ndjson) to curate, Parquet to preview and convert. */
export const DATASET_FILE = /\.(jsonl|ndjson|parquet)$/i;
const isParquet = (uri: vscode.Uri) => /\.parquet$/i.test(uri.fsPath);

/**
 * One file's row. The view keeps one item per file for as long as the file is listed, and updates
 * it in place: a change to a file's figures refreshes that row alone.
 */
export class DatasetItem extends vscode.TreeItem {
  constructor(readonly uri: vscode.Uri) {
    super(path.basename(uri.fsPath), vscode.TreeItemCollapsibleState.None);
    this.id = uri.toString();
    this.resourceUri = uri;
    this.contextValue = 'dataset';
    // A click runs VS Code's own vscode.openWith, whose arguments travel with the row. A command of
    // ours with arguments would be kept by the extension host under an id that is dropped when the
    // row is refreshed (CommandsConverter.toInternal): a click on a row whose figures had just
    // changed, before the workbench had the new row, did nothing ("Actual command not found").
    this.command = {
      command: 'vscode.openWith',
      title: 'Open in Curation Editor',
      arguments: [uri, CurationEditorProvider.viewType],
    };
    if (isParquet(uri)) {
      // Parquet: a read-only preview, converted to JSONL to be curated
      this.contextValue = 'parquetDataset';
      this.command = {
        command: 'vscode.openWith',
        title: 'Preview Parquet',
        arguments: [uri, ParquetPreviewProvider.viewType],
      };
    }
    this.update(undefined, undefined, undefined);
  }

  /** A Parquet file's row: its rows and columns from the footer (nothing else is read). */
  updateParquet(
    info: { rows: number; columns: string[]; rowGroups: number } | undefined,
    error: string | undefined,
  ): void {
    this.show(error, (where, tip) => {
      if (!info) return;
      this.description = `${where}${info.rows.toLocaleString('en-US')} rows · Parquet, read-only`;
      this.iconPath = new vscode.ThemeIcon('table');
      tip.appendText(
        `\n\n${info.rows} rows in ${info.rowGroups} row group(s)\ncolumns: ${info.columns.join(', ')}\n\nRead-only: "Convert to JSONL to edit" in its preview.`,
      );
    });
  }

  update(summary: FileSummary | undefined, progress: number | undefined, error: string | undefined): void {
    this.show(error, (where, tip) => {
      if (!summary) {
        this.description = `${where}indexing${progress !== undefined ? ` ${Math.floor(progress * 100)}%` : '…'}`;
        this.iconPath = new vscode.ThemeIcon('loading~spin');
        return;
      }
      const parts = [`${summary.records.toLocaleString('en-US')} records`];
      if (summary.records > 0) parts.push(`${Math.round(summary.annotatedShare * 100)}% annotated`);
      if (summary.meanScore !== undefined) parts.push(`score ${summary.meanScore.toFixed(1)}`);
      if (summary.generated > 0) parts.push(`${Math.round(summary.generatedShare * 100)}% generated`);
      if (summary.invalid > 0) parts.push(`${summary.invalid} invalid`);
      this.description = where + parts.join(' · ');
      this.iconPath = new vscode.ThemeIcon(summary.invalid > 0 ? 'warning' : 'database');
      tip.appendText(
        `\n\n${summary.records} records, ${summary.invalid} invalid line(s)\n` +
          `${Math.round(summary.annotatedShare * 100)}% annotated, ${Math.round(summary.reviewedShare * 100)}% reviewed\n` +
          (summary.meanScore !== undefined ? `mean judge score ${summary.meanScore.toFixed(2)}\n` : '') +
          (summary.records > 0
            ? `${Math.round(summary.generatedShare * 100)}% machine-generated, ${Math.round((1 - summary.generatedShare) * 100)}% human-written` +
              `${summary.generatedShare > 0.5 ? ' (mostly synthetic: keep human data in the mix, or models trained on it can collapse)' : ''}\n`
            : ''),
      );
    });
  }

  /**
   * Shows the row: its folder (unless at the workspace's root) leads the description and its path
   * the tooltip; an error shows as "unreadable", else `body` describes it (`where`: the folder part).
   */
  private show(error: string | undefined, body: (where: string, tip: vscode.MarkdownString) => void): void {
    const rel = vscode.workspace.asRelativePath(this.uri, (vscode.workspace.workspaceFolders?.length ?? 0) > 1);
    const dir = path.dirname(rel);
    const where = dir === '.' ? '' : `${dir} · `;
    const tip = new vscode.MarkdownString(undefined, true);
    tip.appendText(rel);
    if (error) {
      this.description = `${where}unreadable`;
      this.iconPath = new vscode.ThemeIcon('error');
      tip.appendText(`\n\n${error}`);
    } else body(where, tip);
    this.tooltip = tip;
  }
}

interface Entry {
  item: DatasetItem;
  key?: string; // size:mtime when summarized
  summary?: FileSummary;
  progress?: number;
  error?: string;
  running?: AbortController;
}

/**
 * The Datasets view's data.
 *
 * A refresh of the whole view makes VS Code's extension host forget every row's handle until the
 * view has fetched the rows again (`ExtHostTreeView._addAllToClear`, then a round trip to the
 * workbench and back). A context-menu command run in that window gets no row (`null`), so the
 * person's click does nothing. So the whole view is refreshed only when the list of files changes
 * (a file created or deleted, the include/exclude settings, the workspace folders), and the list is
 * known before: the view's fetch is answered at once. A file's new figures or indexing progress
 * refresh its row alone, which keeps its handle.
 */
export class DatasetsTreeProvider implements vscode.TreeDataProvider<DatasetItem>, vscode.Disposable {
  static readonly viewId = 'datasetCurator.datasets';
  private readonly changed = new vscode.EventEmitter<DatasetItem | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly disposables: { dispose(): void }[] = [this.changed];
  private readonly entries = new Map<string, Entry>();
  /** The listed files, sorted by path, once listed. */
  private files: vscode.Uri[] | undefined;
  private listing: Promise<vscode.Uri[]> | undefined;
  private listGen = 0;
  private queue: Promise<void> = Promise.resolve();
  private relistTimer: NodeJS.Timeout | undefined;
  private readonly checkTimers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly log: Log) {
    // Every path, not only **/*.jsonl: a folder created or deleted with its files in it (a copy, a
    // checkout, a delete of the folder) may be reported as the folder alone.
    const watcher = vscode.workspace.createFileSystemWatcher('**/*');
    watcher.onDidCreate((uri) => {
      if (DATASET_FILE.test(uri.fsPath)) this.relistSoon();
      else
        void vscode.workspace.fs.stat(uri).then(
          (st) => {
            if (st.type & vscode.FileType.Directory) this.relistSoon();
          },
          () => undefined,
        );
    });
    watcher.onDidDelete((uri) => {
      const under = uri.fsPath + path.sep;
      if (DATASET_FILE.test(uri.fsPath) || this.files?.some((f) => f.fsPath.startsWith(under))) this.relistSoon();
    });
    watcher.onDidChange((uri) => {
      if (this.entries.has(uri.fsPath)) this.checkSoon(uri);
    });
    this.disposables.push(
      watcher,
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('datasetCurator.datasets')) void this.relist();
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => void this.relist()),
    );
  }

  /** The Refresh action: the list again, and every file's figures if the file changed. */
  refresh(): void {
    void this.relist().then((files) => {
      for (const uri of files) void this.check(uri);
    });
  }

  /** Lists the files again in a moment (once for a burst of events; a steady stream still gets one every 250 ms). */
  private relistSoon(): void {
    if (this.relistTimer) return;
    this.relistTimer = setTimeout(() => {
      this.relistTimer = undefined;
      void this.relist();
    }, 250);
  }

  /** Checks a file's figures in a moment (as often as every 250 ms while it keeps changing). */
  private checkSoon(uri: vscode.Uri): void {
    if (this.checkTimers.has(uri.fsPath)) return;
    this.checkTimers.set(
      uri.fsPath,
      setTimeout(() => {
        this.checkTimers.delete(uri.fsPath);
        void this.check(uri);
      }, 250),
    );
  }

  /** Lists the files again; refreshes the whole view when the list changed. */
  private relist(): Promise<vscode.Uri[]> {
    return this.list(true).catch((err: unknown) => {
      this.log.error('Listing the dataset files failed', err);
      return this.files ?? [];
    });
  }

  private list(again = false): Promise<vscode.Uri[]> {
    if (!again && this.files) return Promise.resolve(this.files);
    if (!again && this.listing) return this.listing;
    const gen = ++this.listGen;
    const listing: Promise<vscode.Uri[]> = this.findDatasets()
      .then((uris): vscode.Uri[] | Promise<vscode.Uri[]> => {
        if (gen !== this.listGen) return this.listing ?? uris; // a newer listing is under way
        const before = this.files?.map((u) => u.fsPath).join('\n');
        const live = new Set(uris.map((u) => u.fsPath));
        for (const [p, e] of this.entries) {
          if (!live.has(p)) {
            e.running?.abort();
            this.entries.delete(p);
          }
        }
        this.files = uris;
        for (const uri of uris) this.entryOf(uri);
        if (before !== undefined && before !== uris.map((u) => u.fsPath).join('\n')) this.changed.fire(undefined);
        return uris;
      })
      .finally(() => {
        if (gen === this.listGen) this.listing = undefined;
      });
    this.listing = listing;
    return listing;
  }

  getTreeItem(element: DatasetItem): vscode.TreeItem {
    return element;
  }

  /** The list is flat (TreeView.reveal asks). */
  getParent(): undefined {
    return undefined;
  }

  /** The view's item of a file, when the file is listed. */
  async itemFor(uri: vscode.Uri): Promise<DatasetItem | undefined> {
    const listed = (files: vscode.Uri[]) =>
      files.some((u) => u.fsPath === uri.fsPath) ? this.entries.get(uri.fsPath)?.item : undefined;
    // (a file created a moment ago may not be listed yet: the watcher reports it after a while)
    return listed(await this.list()) ?? listed(await this.list(true));
  }

  /** The rows: answered at once once the files are listed (see the class comment). */
  async getChildren(element?: DatasetItem): Promise<DatasetItem[]> {
    if (element) return [];
    const files = this.files ?? (await this.list());
    return files.map((uri) => this.entryOf(uri).item);
  }

  /** The summary of a file once computed (tests wait on this). */
  async summary(uri: vscode.Uri): Promise<FileSummary> {
    for (;;) {
      const e = await this.check(uri);
      if (e.summary) return e.summary;
      if (e.error) throw new Error(e.error);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** A file's entry; a new one has its figures computed. */
  private entryOf(uri: vscode.Uri): Entry {
    let entry = this.entries.get(uri.fsPath);
    if (!entry) {
      entry = { item: new DatasetItem(uri) };
      this.entries.set(uri.fsPath, entry);
      void this.check(uri);
    }
    return entry;
  }

  /** Computes a file's figures again when it changed (size or mtime) since they were computed. */
  private async check(uri: vscode.Uri): Promise<Entry> {
    const entry = this.entryOf(uri);
    let key: string;
    try {
      const st = await vscode.workspace.fs.stat(uri);
      key = `${st.size}:${st.mtime}`;
    } catch {
      key = 'missing';
    }
    if (entry.key === key || this.entries.get(uri.fsPath) !== entry) return entry;
    if (isParquet(uri)) {
      entry.key = key;
      await parquetInfo(uri.fsPath).then(
        (info) => entry.item.updateParquet(info, undefined),
        (err: unknown) => entry.item.updateParquet(undefined, err instanceof Error ? err.message : String(err)),
      );
      this.changed.fire(entry.item);
      return entry;
    }
    entry.running?.abort();
    entry.key = key;
    entry.summary = undefined;
    entry.progress = undefined;
    entry.error = undefined;
    const running = new AbortController();
    entry.running = running;
    const show = (): void => {
      if (this.entries.get(uri.fsPath) !== entry) return;
      entry.item.update(entry.summary, entry.progress, entry.error);
      this.changed.fire(entry.item);
    };
    show();
    const signal = running.signal;
    this.queue = this.queue.then(async () => {
      if (signal.aborted) return;
      let last = 0;
      try {
        entry.summary = await summarizeFile(uri.fsPath, {
          signal,
          onProgress: (share) => {
            entry.progress = share;
            if (Date.now() - last > 500) {
              last = Date.now();
              show();
            }
          },
        });
      } catch (err) {
        // aborted during the await (TypeScript keeps the check above narrowed across it): not a failure
        if (signal.aborted as boolean) return;
        entry.error = err instanceof Error ? err.message : String(err);
        this.log.error(`Summarizing ${uri.fsPath} failed`, err);
      }
      if (entry.running === running) entry.running = undefined;
      show();
    });
    return entry;
  }

  /** The dataset files of the workspace, sorted by path. */
  async findDatasets(): Promise<vscode.Uri[]> {
    const uris = await vscode.workspace.findFiles(setting('datasets.include'), setting('datasets.exclude'));
    return uris.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
  }

  dispose(): void {
    clearTimeout(this.relistTimer);
    for (const t of this.checkTimers.values()) clearTimeout(t);
    for (const e of this.entries.values()) e.running?.abort();
    for (const d of this.disposables) d.dispose();
  }
}
