// Leakage lint (docs/git.md): exact and near duplicates shared between the workspace's train,
// validation and eval files, in the Problems panel on the later split's line (naming the other file
// and line), with a quick fix that removes the record from this file. Runs at activation, when a
// .jsonl file is saved, and on demand (Dataset Curator: Check Splits for Leakage). The work is in
// src/core/filter/leakage.ts.
import { statSync } from 'node:fs';
import * as vscode from 'vscode';
import { describeLeak, findLeaks, splitRole, type Leak, type SplitFile, type SplitRole } from '../core/filter/leakage';
import type { Log } from './log';
import { setting } from './settings';

const SOURCE = 'Dataset Curator';
const CODE = 'leakage';

interface LeakageSettings {
  enabled: boolean;
  patterns: Partial<Record<SplitRole, string[]>>;
  near: number;
  field?: string;
  maxFiles: number;
  /** Automatic checks (start, save) stand down above this many bytes of split files; the command always runs. */
  autoMaxBytes: number;
}

function settings(): LeakageSettings {
  const field = setting('leakage.field');
  return {
    enabled: setting('leakage.enabled'),
    patterns: setting('leakage.splits'),
    near: setting('leakage.nearThreshold'),
    ...(field ? { field } : {}),
    maxFiles: 50,
    autoMaxBytes: 100 * 1024 * 1024,
  };
}

/** The workspace's split files: .jsonl files whose names say train, validation or eval. */
async function splitFiles(s: LeakageSettings): Promise<SplitFile[]> {
  const uris = await vscode.workspace.findFiles('**/*.jsonl', '{**/node_modules/**,**/.curator/**,**/.git/**}', 1000);
  const out: SplitFile[] = [];
  for (const u of uris) {
    const role = splitRole(u.fsPath, s.patterns);
    if (role) out.push({ path: u.fsPath, role });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : 1)).slice(0, s.maxFiles);
}

export class LeakageLint implements vscode.Disposable {
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('datasetCurator.leakage');
  private readonly disposables: { dispose(): void }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<Leak[]> | undefined;
  private again = false;
  /** The leaks last found (tests read them). */
  leaks: Leak[] = [];

  constructor(private readonly log: Log) {
    this.disposables.push(
      this.diagnostics,
      vscode.workspace.onDidSaveTextDocument((d) => d.uri.path.endsWith('.jsonl') && this.schedule()),
      vscode.workspace.onDidCreateFiles((e) => e.files.some((u) => u.path.endsWith('.jsonl')) && this.schedule()),
      vscode.workspace.onDidDeleteFiles((e) => e.files.some((u) => u.path.endsWith('.jsonl')) && this.schedule()),
      vscode.workspace.onDidChangeConfiguration(
        (e) => e.affectsConfiguration('datasetCurator.leakage') && this.schedule(),
      ),
    );
  }

  /** Checks again soon (several saves in a row: once). */
  schedule(delayMs = 1500): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(
      () => void this.check(true).catch((err: unknown) => this.log.error('Leakage check failed', err)),
      delayMs,
    );
  }

  /** Checks the workspace's splits now and updates the Problems panel. */
  async check(automatic = false): Promise<Leak[]> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.run(automatic);
    try {
      return await this.running;
    } finally {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.schedule(0);
      }
    }
  }

  private async run(automatic: boolean): Promise<Leak[]> {
    const s = settings();
    if (!s.enabled) {
      this.diagnostics.clear();
      return (this.leaks = []);
    }
    const files = await splitFiles(s);
    const roles = new Set(files.map((f) => f.role));
    if (roles.size < 2) {
      this.diagnostics.clear();
      return (this.leaks = []);
    }
    const bytes = files.reduce((n, f) => n + (statSync(f.path, { throwIfNoEntry: false })?.size ?? 0), 0);
    if (automatic && bytes > s.autoMaxBytes) {
      this.log.info(
        `Leakage check: ${files.length} split files of ${(bytes / 1048576).toFixed(0)} MB are above the automatic check's ${(s.autoMaxBytes / 1048576).toFixed(0)} MB; run "Check Splits for Leakage" to check them`,
      );
      return this.leaks;
    }
    const leaks = await findLeaks(files, {
      ...(s.field ? { field: s.field } : {}),
      near: s.near > 0 && s.near <= 1 ? s.near : false,
    });
    this.leaks = leaks;
    const byFile = new Map<string, vscode.Diagnostic[]>();
    for (const l of leaks) {
      const range = new vscode.Range(l.line - 1, 0, l.line - 1, Number.MAX_SAFE_INTEGER);
      const d = new vscode.Diagnostic(
        range,
        describeLeak(l, (f) => vscode.workspace.asRelativePath(f)),
        vscode.DiagnosticSeverity.Warning,
      );
      d.source = SOURCE;
      d.code = CODE;
      d.relatedInformation = [
        new vscode.DiagnosticRelatedInformation(
          new vscode.Location(vscode.Uri.file(l.other.file), new vscode.Position(l.other.line - 1, 0)),
          `the ${l.other.role} record it repeats`,
        ),
      ];
      const list = byFile.get(l.file) ?? [];
      list.push(d);
      byFile.set(l.file, list);
    }
    this.diagnostics.clear();
    for (const [file, list] of byFile) this.diagnostics.set(vscode.Uri.file(file), list);
    this.log.info(`Leakage check: ${files.length} split file(s), ${leaks.length} record(s) repeating an earlier split`);
    return leaks;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}

/** The quick fix: remove the leaking record (its whole line) from this file. */
class LeakageFixes implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];
  provideCodeActions(
    doc: vscode.TextDocument,
    _range: vscode.Range,
    ctx: vscode.CodeActionContext,
  ): vscode.CodeAction[] {
    const out: vscode.CodeAction[] = [];
    for (const d of ctx.diagnostics) {
      if (d.source !== SOURCE || d.code !== CODE) continue;
      const line = d.range.start.line;
      if (line >= doc.lineCount) continue;
      const name = vscode.workspace.asRelativePath(doc.uri);
      const fix = new vscode.CodeAction(`Remove this record from ${name}`, vscode.CodeActionKind.QuickFix);
      const edit = new vscode.WorkspaceEdit();
      const end = line + 1 < doc.lineCount ? new vscode.Position(line + 1, 0) : doc.lineAt(line).range.end;
      const start =
        line + 1 < doc.lineCount || line === 0 ? new vscode.Position(line, 0) : doc.lineAt(line - 1).range.end;
      edit.delete(doc.uri, new vscode.Range(start, end));
      fix.edit = edit;
      fix.diagnostics = [d];
      fix.isPreferred = true;
      out.push(fix);
    }
    return out;
  }
}

export function registerLeakageLint(context: vscode.ExtensionContext, log: Log): LeakageLint {
  const lint = new LeakageLint(log);
  context.subscriptions.push(
    lint,
    vscode.languages.registerCodeActionsProvider(
      [{ pattern: '**/*.jsonl' }, { language: 'jsonl' }],
      new LeakageFixes(),
      { providedCodeActionKinds: LeakageFixes.kinds },
    ),
    vscode.commands.registerCommand('datasetCurator.checkLeakage', async () => {
      try {
        const leaks = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Window, title: 'Checking splits for leakage' },
          () => lint.check(),
        );
        void vscode.window.showInformationMessage(
          leaks.length
            ? `${leaks.length} record(s) of a later split repeat an earlier split: see the Problems panel.`
            : 'No record is shared between the train, validation and eval files.',
        );
        return leaks;
      } catch (err) {
        log.error('Leakage check failed', err);
        void vscode.window.showErrorMessage(
          `Leakage check failed: ${err instanceof Error ? err.message : String(err)}`,
        );
        return undefined;
      }
    }),
  );
  lint.schedule(3000);
  return lint;
}
