// Quick fixes for a record the merge driver left between conflict markers (docs/git.md), in a
// .jsonl opened as text: keep our version of the record or theirs (the lines in between, which the
// Problems panel shows as invalid, are replaced by that side's line).
import * as vscode from 'vscode';
import { conflictAt } from '../core/git/conflicts';

class ConflictFixes implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];
  provideCodeActions(doc: vscode.TextDocument, range: vscode.Range): vscode.CodeAction[] {
    const block = conflictAt((i) => doc.lineAt(i).text, doc.lineCount, range.start.line);
    if (!block) return [];
    const start = new vscode.Position(block.start, 0);
    const end = block.end + 1 < doc.lineCount ? new vscode.Position(block.end + 1, 0) : doc.lineAt(block.end).range.end;
    const eol = doc.eol === vscode.EndOfLine.CRLF ? '\r\n' : '\n';
    const what = /\(([^)]*)\)\s*$/.exec(block.label)?.[1];
    const action = (title: string, lines: string[], preferred = false) => {
      const a = new vscode.CodeAction(
        `${title}${what ? ` for ${what.split(':')[0]}` : ''}`,
        vscode.CodeActionKind.QuickFix,
      );
      const edit = new vscode.WorkspaceEdit();
      const text = lines.map((l) => l + eol).join('');
      edit.replace(
        doc.uri,
        new vscode.Range(start, end),
        block.end + 1 < doc.lineCount ? text : text.slice(0, -eol.length),
      );
      a.edit = edit;
      a.isPreferred = preferred;
      a.diagnostics = vscode.languages
        .getDiagnostics(doc.uri)
        .filter((d) => d.range.start.line >= block.start && d.range.start.line <= block.end);
      return a;
    };
    return [
      action('Keep ours (this branch)', block.ours, true),
      action('Keep theirs (the merged branch)', block.theirs),
    ];
  }
}

export function registerConflictFixes(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.languages.registerCodeActionsProvider(
      [{ pattern: '**/*.jsonl' }, { language: 'jsonl' }],
      new ConflictFixes(),
      { providedCodeActionKinds: ConflictFixes.kinds },
    ),
  );
}
