// The Datasets view: the workspace's dataset files, each with its record count, annotated share,
// mean judge score and invalid lines, refreshed when files change.
import * as vscode from 'vscode';
import * as path from 'node:path';
import { summarizeFile, type FileSummary } from './summaries';
import type { Log } from './log';

export class DatasetItem extends vscode.TreeItem {
  constructor(
    readonly uri: vscode.Uri,
    summary: FileSummary | undefined,
    progress: number | undefined,
    error: string | undefined,
  ) {
    super(path.basename(uri.fsPath), vscode.TreeItemCollapsibleState.None);
    const rel = vscode.workspace.asRelativePath(uri, (vscode.workspace.workspaceFolders?.length ?? 0) > 1);
    const dir = path.dirname(rel);
    this.id = uri.toString();
    this.resourceUri = uri;
    this.contextValue = 'dataset';
    this.command = { command: 'datasetCurator.openInCurationEditor', title: 'Open in Curation Editor', arguments: [uri] };
    const where = dir === '.' ? '' : `${dir} · `;
    const tip = new vscode.MarkdownString(undefined, true);
    tip.appendText(rel);
    if (error) {
      this.description = `${where}unreadable`;
      this.iconPath = new vscode.ThemeIcon('error');
      tip.appendText(`\n\n${error}`);
    } else if (!summary) {
      this.description = `${where}indexing${progress !== undefined ? ` ${Math.floor(progress * 100)}%` : '…'}`;
      this.iconPath = new vscode.ThemeIcon('loading~spin');
    } else {
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
    }
    this.tooltip = tip;
  }
}

interface Entry {
  key: string; // size:mtime when summarized
  summary?: FileSummary;
  progress?: number;
  error?: string;
  running?: AbortController;
}

export class DatasetsTreeProvider implements vscode.TreeDataProvider<DatasetItem>, vscode.Disposable {
  static readonly viewId = 'datasetCurator.datasets';
  private readonly changed = new vscode.EventEmitter<DatasetItem | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private readonly entries = new Map<string, Entry>();
  private queue: Promise<void> = Promise.resolve();
  private refreshTimer: NodeJS.Timeout | undefined;

  constructor(private readonly log: Log) {
    const watcher = vscode.workspace.createFileSystemWatcher('**/*.jsonl');
    watcher.onDidCreate(() => this.refreshSoon());
    watcher.onDidDelete(() => this.refreshSoon());
    watcher.onDidChange(() => this.refreshSoon());
    this.disposables.push(
      watcher,
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('datasetCurator.datasets')) this.refresh();
      }),
    );
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  private refreshSoon(): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => this.refresh(), 250);
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
    return (await this.getChildren()).find((i) => i.uri.fsPath === uri.fsPath);
  }

  async getChildren(element?: DatasetItem): Promise<DatasetItem[]> {
    if (element) return [];
    const files = await this.findDatasets();
    const live = new Set(files.map((u) => u.fsPath));
    for (const [p, e] of this.entries) {
      if (!live.has(p)) {
        e.running?.abort();
        this.entries.delete(p);
      }
    }
    const items: DatasetItem[] = [];
    for (const uri of files) {
      const e = await this.entryFor(uri);
      items.push(new DatasetItem(uri, e.summary, e.progress, e.error));
    }
    return items;
  }

  /** The summary of a file once computed (tests wait on this). */
  async summary(uri: vscode.Uri): Promise<FileSummary> {
    for (;;) {
      const e = await this.entryFor(uri);
      if (e.summary) return e.summary;
      if (e.error) throw new Error(e.error);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private async entryFor(uri: vscode.Uri): Promise<Entry> {
    let key: string;
    try {
      const st = await vscode.workspace.fs.stat(uri);
      key = `${st.size}:${st.mtime}`;
    } catch {
      key = 'missing';
    }
    const existing = this.entries.get(uri.fsPath);
    if (existing && existing.key === key) return existing;
    existing?.running?.abort();
    const entry: Entry = { key, running: new AbortController() };
    this.entries.set(uri.fsPath, entry);
    const signal = entry.running!.signal;
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
              this.refresh();
            }
          },
        });
      } catch (err) {
        if (signal.aborted) return;
        entry.error = err instanceof Error ? err.message : String(err);
        this.log.error(`Summarizing ${uri.fsPath} failed`, err);
      }
      entry.running = undefined;
      this.refreshSoon();
    });
    return entry;
  }

  /** The dataset files of the workspace, sorted by path. */
  async findDatasets(): Promise<vscode.Uri[]> {
    const config = vscode.workspace.getConfiguration('datasetCurator.datasets');
    const include = config.get<string>('include', '**/*.jsonl');
    const exclude = config.get<string>('exclude', '{**/{node_modules,.git,.curator}/**,**/*.curator-journal/**}');
    const uris = await vscode.workspace.findFiles(include, exclude);
    return uris.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
  }

  dispose(): void {
    for (const e of this.entries.values()) e.running?.abort();
    for (const d of this.disposables) d.dispose();
  }
}
