// "Filter Records…": rules and thresholds over a dataset, a dry run with counts per rule first,
// then tag the dropped records, delete them (both one undoable edit in the Curation Editor), or
// write the kept ones to a new file. The work is the core's filter operation, run by the face's
// one runner (progress and cancel) over the open document when there is one.
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { FilterResult } from '../core/filter/filter';
import { parseRule } from '../core/filter/rules';
import { filterEntry } from '../core/registry';
import { datasetLines, storeLines } from '../core/sources';
import { runOperation } from './jobs';
import { CurationEditorProvider } from './curationEditor';
import type { Log } from './log';

function splitRules(text: string): string[] {
  return text
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);
}

export async function filterCommand(
  uri: vscode.Uri,
  editors: CurationEditorProvider,
  log: Log,
): Promise<FilterResult | undefined> {
  const name = path.basename(uri.fsPath);
  const text = await vscode.window.showInputBox({
    title: `Filter ${name}`,
    prompt: "Rules a record must pass, separated by ';'. A dry run shows what each drops before anything changes.",
    placeHolder: 'judge.score >= 7; len(text) >= 20; label in [positive,negative]; not invalid',
    ignoreFocusOut: true,
    validateInput: (v) => {
      if (!v.trim()) return 'Enter at least one rule';
      for (const r of splitRules(v)) {
        try {
          parseRule(r);
        } catch (err) {
          return err instanceof Error ? err.message : String(err);
        }
      }
      return undefined;
    },
  });
  if (!text) return undefined;
  const rules = splitRules(text);
  // Over the document open in the Curation Editor, with its unsaved edits; else the file. One
  // pass gives the counts, the tags and the records to delete.
  const open = editors.documentFor(uri);
  const op = filterEntry({
    open: (file, signal) => (open ? () => datasetLines(open.store, signal) : () => storeLines(file, signal)),
  });
  const dry = await runOperation(
    op,
    { file: uri.fsPath, rules, action: 'tag', tag: 'filtered' },
    { title: `Filter ${name}: dry run`, log, quiet: true },
  );
  if (!dry) return undefined;
  const perRule = dry.rules.map((r) => ({
    label: `$(filter) ${r.rule}`,
    description: `drops ${r.dropped}`,
    kind: vscode.QuickPickItemKind.Default,
    action: 'none' as const,
  }));
  type Item = vscode.QuickPickItem & { action: 'tag' | 'delete' | 'write' | 'none' };
  const items: Item[] = [
    {
      label: `Keep ${dry.kept} of ${dry.total}, drop ${dry.dropped}`,
      kind: vscode.QuickPickItemKind.Separator,
      action: 'none',
    },
    {
      label: `$(tag) Tag the ${dry.dropped} dropped record(s) "filtered"`,
      description: 'reversible, one undo',
      action: 'tag',
    },
    {
      label: `$(trash) Delete the ${dry.dropped} dropped record(s)`,
      description: 'in the editor, one undo',
      action: 'delete',
    },
    { label: `$(new-file) Write the ${dry.kept} kept record(s) to a new file…`, action: 'write' },
    { label: 'Counts per rule', kind: vscode.QuickPickItemKind.Separator, action: 'none' },
    ...perRule,
  ];
  const pick = await vscode.window.showQuickPick(items, {
    title: `Filter ${name}: dry run`,
    placeHolder: 'What to do with the result (Escape: nothing)',
  });
  if (!pick || pick.action === 'none') return dry;
  if (pick.action === 'write') {
    const out = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.file(uri.fsPath.replace(/\.jsonl$/, '.filtered.jsonl')),
      filters: { 'JSON Lines': ['jsonl'] },
    });
    if (!out) return dry;
    return (
      (await runOperation(
        op,
        { file: uri.fsPath, rules, action: 'write', out: out.fsPath, overwrite: true },
        { title: `Filter ${name}`, log },
      )) ?? dry
    );
  }
  // Tag and delete are edits of the open document: undo, redo and save go through VS Code.
  await vscode.commands.executeCommand('vscode.openWith', uri, CurationEditorProvider.viewType);
  const doc = editors.documentFor(uri);
  if (!doc) throw new Error(`${name} could not be opened in the Curation Editor`);
  await doc.store.ready;
  if (pick.action === 'tag') {
    const n = doc.setFields(dry.edits ?? [], `Tag ${dry.dropped} filtered record(s)`);
    void vscode.window.showInformationMessage(
      `Tagged ${n} record(s) "filtered". Undo (Ctrl+Z) reverts it; save to keep it.`,
    );
  } else {
    const indices = dry.deleteIndices ?? [];
    const n = doc.deleteLines(indices, `Delete ${indices.length} filtered record(s)`);
    void vscode.window.showInformationMessage(
      `Deleted ${n} record(s). Undo (Ctrl+Z) brings them back; save to keep it.`,
    );
  }
  return dry;
}
