// Git in VS Code (docs/git.md): Compare with HEAD / with a Revision for the curation editor's file
// (the semantic diff of src/core/git: per record, the editor's unsaved edits included) listed in a
// QuickPick that reveals each changed record as it is picked, Next/Previous Change, and Install
// Merge Driver. Thin: the work is in src/core/git.
import * as vscode from 'vscode';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { describeChange, diffIndexes, type DiffResult, type RecordChange } from '../core/git/diff';
import { indexDataset, indexFile } from '../core/git/records';
import { fileAtRevision, git, installMergeDriver, repoRoot, shellQuote } from '../core/git/git';
import type { CurationEditorProvider, DatasetDocument } from './curationEditor';
import type { Log } from './log';
import { annotatorFor } from './annotator';
import { decisionsByPerson } from '../core/git/annotators';

/** The last comparison of each document: what Next/Previous Change step through. */
interface Comparison {
  rev: string;
  result: DiffResult;
}
const comparisons = new WeakMap<DatasetDocument, Comparison>();

const icons: Record<RecordChange['change'], string> = {
  added: '$(diff-added)',
  removed: '$(diff-removed)',
  changed: '$(diff-modified)',
};

/** The document of `uri` in the curation editor (opened there when it is not). */
async function documentOf(
  uri: vscode.Uri | undefined,
  editors: CurationEditorProvider,
): Promise<DatasetDocument | undefined> {
  if (!uri) return editors.activeDocument();
  let doc = editors.documentFor(uri);
  if (!doc) {
    await vscode.commands.executeCommand('vscode.openWith', uri, 'datasetCurator.curationEditor');
    doc = editors.documentFor(uri);
  }
  return doc;
}

/** The revisions to pick from: HEAD, local and remote branches, tags (newest first). */
async function revisions(dir: string): Promise<string[]> {
  const refs = await git(
    ['for-each-ref', '--sort=-committerdate', '--format=%(refname:short)', 'refs/heads', 'refs/remotes', 'refs/tags'],
    dir,
  ).catch(() => '');
  return [
    'HEAD',
    ...refs
      .split('\n')
      .map((s) => s.trim())
      .filter((s) => s && !s.endsWith('/HEAD')),
  ];
}

/** A revision from a list (HEAD, branches, tags) or typed (a commit, HEAD~2, main@{yesterday}). */
async function pickRevision(dir: string, title: string): Promise<string | undefined> {
  const known = (await revisions(dir)).map((r) => ({ label: r }));
  const qp = vscode.window.createQuickPick<vscode.QuickPickItem>();
  qp.title = title;
  qp.placeholder = 'A branch, a tag or HEAD; or type a commit or a revision such as HEAD~1';
  qp.items = known;
  qp.onDidChangeValue((v) => {
    const typed = v.trim();
    qp.items =
      typed && !known.some((k) => k.label === typed)
        ? [{ label: typed, description: 'the revision as typed' }, ...known]
        : known;
  });
  return new Promise((resolve) => {
    qp.onDidAccept(() => {
      resolve(qp.activeItems[0]?.label ?? (qp.value.trim() || undefined));
      qp.hide();
    });
    qp.onDidHide(() => {
      resolve(undefined);
      qp.dispose();
    });
    qp.show();
  });
}

/** The semantic diff of the document (as it is in the editor) against the file at `rev`. */
export async function compareDocument(
  doc: DatasetDocument,
  rev: string,
  token?: vscode.CancellationToken,
): Promise<DiffResult> {
  const ac = new AbortController();
  token?.onCancellationRequested(() => ac.abort());
  const old = await fileAtRevision(doc.uri.fsPath, rev, ac.signal);
  try {
    const a = await indexFile(old.path, {}, ac.signal);
    try {
      const b = await indexDataset(doc.store, {}, ac.signal);
      try {
        return await diffIndexes(a, b, { signal: ac.signal });
      } finally {
        await b.close();
      }
    } finally {
      await a.close();
    }
  } finally {
    old.dispose();
  }
}

function item(r: RecordChange): vscode.QuickPickItem & { change: RecordChange } {
  const kinds = r.change === 'changed' ? [...new Set(r.changes.map((c) => c.kind))].join(', ') : r.change;
  const where = r.change === 'removed' ? `was line ${r.oldLine}` : `line ${r.newLine}`;
  return {
    label: `${icons[r.change]} ${r.label}`,
    description: `${where} · ${kinds}`,
    detail:
      r.change === 'changed'
        ? r.changes.map(describeChange).join('; ')
        : r.change === 'removed'
          ? 'Removed since the revision (not in the file any more).'
          : 'Added since the revision.',
    change: r,
  };
}

/** Shows a changed record in the curation editor (a removed one is not there: says so). */
function reveal(doc: DatasetDocument, editors: CurationEditorProvider, r: RecordChange): number | undefined {
  if (r.newLine === undefined) return undefined;
  editors.assessment.show(doc, 'record', r.newLine - 1);
  doc.currentIndex = r.newLine - 1;
  return r.newLine - 1;
}

async function compareCommand(
  editors: CurationEditorProvider,
  log: Log,
  uri: vscode.Uri | undefined,
  pickRev: boolean,
): Promise<DiffResult | undefined> {
  const doc = await documentOf(uri, editors);
  if (!doc) {
    void vscode.window.showWarningMessage('Open a dataset in the Curation Editor first.');
    return undefined;
  }
  const dir = path.dirname(doc.uri.fsPath);
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage(
      'Comparing with a revision runs git in this repository: trust the workspace first.',
    );
    return undefined;
  }
  if (!(await repoRoot(dir))) {
    void vscode.window.showWarningMessage(`${path.basename(doc.uri.fsPath)} is not in a git repository.`);
    return undefined;
  }
  let rev = 'HEAD';
  if (pickRev) {
    const picked = await pickRevision(dir, `Compare ${path.basename(doc.uri.fsPath)} with…`);
    if (!picked) return undefined;
    rev = picked;
  }
  const result = await vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: `Comparing ${path.basename(doc.uri.fsPath)} with ${rev}`,
      cancellable: true,
    },
    (_p, token) => compareDocument(doc, rev, token),
  );
  comparisons.set(doc, { rev, result });
  const s = result.summary;
  log.info(
    `${doc.uri.fsPath} vs ${rev}: ${s.changed} changed, ${s.added} added, ${s.removed} removed, ${s.unchanged} unchanged`,
  );
  if (result.records.length === 0) {
    void vscode.window.showInformationMessage(
      `No record changed since ${rev} (${s.unchanged} records${s.moved ? `, ${s.moved} moved` : ''}).`,
    );
    return result;
  }
  const qp = vscode.window.createQuickPick<ReturnType<typeof item>>();
  qp.title = `${path.basename(doc.uri.fsPath)} since ${rev}: ${s.changed} changed, ${s.added} added, ${s.removed} removed`;
  qp.placeholder = 'Pick a record to show it in the Curation Editor (Next/Previous Change step through them)';
  qp.matchOnDescription = true;
  qp.matchOnDetail = true;
  qp.items = result.records.map(item);
  qp.onDidChangeActive((a) => {
    if (a[0]) reveal(doc, editors, a[0].change);
  });
  qp.onDidAccept(() => {
    const a = qp.activeItems[0];
    if (a) reveal(doc, editors, a.change);
    qp.hide();
  });
  qp.onDidHide(() => qp.dispose());
  qp.show();
  return result;
}

/** Reveals the next (or previous) changed record of the last comparison, from the record shown now. */
function stepChange(editors: CurationEditorProvider, dir: 1 | -1): number | undefined {
  const doc = editors.activeDocument();
  const c = doc && comparisons.get(doc);
  if (!doc || !c) {
    void vscode.window.showInformationMessage(
      'Compare the dataset with HEAD or a revision first (Dataset Curator: Compare with HEAD).',
    );
    return undefined;
  }
  const lines = [...new Set(c.result.records.flatMap((r) => (r.newLine === undefined ? [] : [r.newLine - 1])))].sort(
    (a, b) => a - b,
  );
  const here = doc.currentIndex;
  const next = dir > 0 ? lines.find((i) => i > here) : [...lines].reverse().find((i) => i < here);
  if (next === undefined) {
    void vscode.window.showInformationMessage(
      dir > 0
        ? `No changed record after this one (since ${c.rev}).`
        : `No changed record before this one (since ${c.rev}).`,
    );
    return undefined;
  }
  const r = c.result.records.find((x) => x.newLine === next + 1)!;
  return reveal(doc, editors, r);
}

/** "My queue": shows the next record (after the one showing, wrapping around) that I have not decided. */
function nextUndecided(editors: CurationEditorProvider): number | undefined {
  const doc = editors.activeDocument();
  if (!doc) {
    void vscode.window.showWarningMessage('Open a dataset in the Curation Editor first.');
    return undefined;
  }
  const me = annotatorFor(doc.uri);
  if (!me) {
    void vscode.window.showWarningMessage('Who are you? Set datasetCurator.annotator, or git config user.name.');
    return undefined;
  }
  const ds = doc.store;
  const n = ds.lineCount;
  for (let k = 1; k <= n; k++) {
    const i = (doc.currentIndex + k) % n;
    const l = ds.line(i);
    if (!l.value || l.invalid) continue;
    if (!decisionsByPerson(l.value).has(me)) {
      editors.assessment.show(doc, 'record', i);
      doc.currentIndex = i;
      return i;
    }
  }
  void vscode.window.showInformationMessage(`${me} has decided every record of ${path.basename(doc.uri.fsPath)}.`);
  return undefined;
}

/** Whether a program answers on the PATH. */
function onPath(program: string): boolean {
  try {
    execFileSync(program, ['--version'], { stdio: 'ignore', timeout: 5000, windowsHide: true });
    return true;
  } catch {
    return false;
  }
}

/** How git should run curate from this extension: the bundled CLI under this VS Code's Node, or `curate`. */
function driverCommand(context: vscode.ExtensionContext): string {
  const cli = vscode.Uri.joinPath(context.extensionUri, 'dist', 'cli.js').fsPath;
  return existsSync(cli) ? `node ${shellQuote(cli)}` : 'curate';
}

export function registerGitCommands(
  context: vscode.ExtensionContext,
  deps: { editors: CurationEditorProvider; log: Log },
): void {
  const reg = (id: string, fn: (...args: unknown[]) => unknown) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, fn));
  const uriOf = (arg: unknown) => (arg instanceof vscode.Uri ? arg : undefined);
  const failed = (what: string) => (err: unknown) => {
    deps.log.error(`${what} failed`, err);
    void vscode.window.showErrorMessage(`${what} failed: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  };
  reg('datasetCurator.compareWithHead', (arg) =>
    compareCommand(deps.editors, deps.log, uriOf(arg), false).catch(failed('Compare with HEAD')),
  );
  reg('datasetCurator.compareWithRevision', (arg) =>
    compareCommand(deps.editors, deps.log, uriOf(arg), true).catch(failed('Compare with Revision')),
  );
  reg('datasetCurator.nextChange', () => stepChange(deps.editors, 1));
  reg('datasetCurator.previousChange', () => stepChange(deps.editors, -1));
  reg('datasetCurator.nextUndecided', () => nextUndecided(deps.editors));
  reg('datasetCurator.installMergeDriver', async (arg) => {
    const folder = uriOf(arg) ?? deps.editors.activeDocument()?.uri ?? vscode.workspace.workspaceFolders?.[0]?.uri;
    if (!folder) {
      void vscode.window.showWarningMessage('Open a folder in a git repository first.');
      return undefined;
    }
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage(
        "Installing the merge driver writes this repository's git config: trust the workspace first.",
      );
      return undefined;
    }
    const dir = folder.fsPath.endsWith('.jsonl') ? path.dirname(folder.fsPath) : folder.fsPath;
    try {
      const command = driverCommand(context);
      const r = await installMergeDriver(dir, command);
      const attrs = r.attributesAdded ? ' Commit .gitattributes so that everyone merges the same way.' : '';
      if (command === 'curate' && !onPath('curate')) {
        // the extension's package carries no CLI: git needs `curate` on the PATH
        void vscode.window.showWarningMessage(
          `Merge driver installed in ${r.root}, but git runs "curate", which is not on the PATH: install the CLI (npm install -g dataset-curator).${attrs}`,
        );
      } else
        void vscode.window.showInformationMessage(
          `Merge driver installed in ${r.root}: JSONL files now merge by record.${attrs}`,
        );
      return r;
    } catch (err) {
      failed('Install Merge Driver')(err);
      return undefined;
    }
  });
}
