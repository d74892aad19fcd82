// For .jsonl files opened in the plain text editor: a Problems entry per invalid line, a hover with
// the record's label, score and rationale, a CodeLens with the label and score and a "Relabel"
// action, and quick fixes to relabel. Large documents are skipped gracefully.
import * as vscode from 'vscode';
import { checkLineBytes, lossyReason } from '../core/store';

/** A line's check with its lossy reason (what the Problems panel shows). */
function checkLine(bytes: Buffer): { invalid?: { reason: string }; lossy?: { reason: string } } {
  const c = checkLineBytes(bytes);
  if (c.invalid) return { invalid: c.invalid };
  const why = lossyReason(bytes.toString('utf8'));
  return why ? { lossy: { reason: why } } : {};
}
import { readAnnotation } from '../core/schema/annotation';
import { applyAnnotationEdit } from '../core/annotate-edits';
import type { Log } from './log';

const selector: vscode.DocumentSelector = [{ pattern: '**/*.jsonl' }, { language: 'jsonl' }];

/** Above these, the text features stand down (VS Code does not even sync files over 50 MB). */
export const limits = { diagnosticsLines: 200_000, lensLines: 5_000, bytes: 20 * 1024 * 1024 };

function isDataset(doc: vscode.TextDocument): boolean {
  return doc.uri.path.endsWith('.jsonl');
}

function tooLarge(doc: vscode.TextDocument, lines: number): boolean {
  return doc.lineCount > lines || doc.offsetAt(new vscode.Position(doc.lineCount, 0)) > limits.bytes;
}

function recordAt(doc: vscode.TextDocument, line: number): Record<string, unknown> | undefined {
  const text = doc.lineAt(line).text;
  const check = checkLine(Buffer.from(text, 'utf8'));
  if (check.invalid) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The label set for a text document: the setting, else the labels seen in its first lines. */
function labelsOf(doc: vscode.TextDocument): string[] {
  const configured = vscode.workspace.getConfiguration('datasetCurator', doc.uri).get<string[]>('labels', []);
  if (configured.length > 0) return configured;
  const seen = new Set<string>();
  for (let i = 0; i < Math.min(doc.lineCount, 2000); i++) {
    const rec = recordAt(doc, i);
    if (!rec) continue;
    const ann = readAnnotation(rec);
    if (ann.label) seen.add(ann.label);
    for (const s of ann.suggestions) if (s.question === 'label' && typeof s.value === 'string') seen.add(s.value);
  }
  return [...seen].sort();
}

export function registerTextFeatures(context: vscode.ExtensionContext, log: Log): void {
  const diagnostics = vscode.languages.createDiagnosticCollection('datasetCurator');
  context.subscriptions.push(diagnostics);
  const warned = new Set<string>();

  const refresh = (doc: vscode.TextDocument) => {
    if (!isDataset(doc)) return;
    if (tooLarge(doc, limits.diagnosticsLines)) {
      diagnostics.delete(doc.uri);
      if (!warned.has(doc.uri.toString())) {
        warned.add(doc.uri.toString());
        log.info(`${doc.uri.fsPath}: too large for line diagnostics in the text editor; the Curation Editor and "curate validate" check it`);
      }
      return;
    }
    const found: vscode.Diagnostic[] = [];
    for (let i = 0; i < doc.lineCount; i++) {
      const line = doc.lineAt(i);
      const check = checkLine(Buffer.from(line.text, 'utf8'));
      if (check.invalid) {
        const d = new vscode.Diagnostic(line.range.isEmpty ? new vscode.Range(i, 0, i, 0) : line.range, `Invalid record: ${check.invalid.reason}`, vscode.DiagnosticSeverity.Error);
        d.source = 'Dataset Curator';
        found.push(d);
      } else if (check.lossy) {
        const d = new vscode.Diagnostic(line.range, `Field edits would lose information: ${check.lossy.reason}`, vscode.DiagnosticSeverity.Warning);
        d.source = 'Dataset Curator';
        found.push(d);
      }
    }
    diagnostics.set(doc.uri, found);
  };
  const timers = new Map<string, NodeJS.Timeout>();
  const schedule = (doc: vscode.TextDocument) => {
    const key = doc.uri.toString();
    clearTimeout(timers.get(key));
    timers.set(key, setTimeout(() => refresh(doc), 300));
  };
  vscode.workspace.textDocuments.forEach(refresh);
  context.subscriptions.push(
    vscode.workspace.onDidOpenTextDocument(refresh),
    vscode.workspace.onDidChangeTextDocument((e) => schedule(e.document)),
    vscode.workspace.onDidCloseTextDocument((doc) => diagnostics.delete(doc.uri)),
  );

  context.subscriptions.push(
    vscode.languages.registerHoverProvider(selector, {
      provideHover(doc, pos) {
        if (!isDataset(doc) || tooLarge(doc, limits.diagnosticsLines)) return undefined;
        const rec = recordAt(doc, pos.line);
        if (!rec) return undefined;
        const ann = readAnnotation(rec);
        if (ann.label === undefined && ann.judge?.score === undefined && !ann.rationale) return undefined;
        const md = new vscode.MarkdownString(undefined, false);
        md.isTrusted = false;
        md.supportHtml = false;
        md.appendMarkdown('**Label** ');
        md.appendText(ann.label ?? '(none)');
        if (ann.judge?.score !== undefined) {
          md.appendMarkdown('  \n**Judge score** ');
          md.appendText(`${ann.judge.score}${ann.judge.scale ? ` / ${ann.judge.scale[1]}` : ''}`);
        }
        if (ann.rationale) {
          md.appendMarkdown('  \n**Rationale** ');
          md.appendText(ann.rationale);
        }
        if (ann.reviewStatus) {
          md.appendMarkdown('  \n**Review** ');
          md.appendText(ann.reviewStatus);
        }
        return new vscode.Hover(md, doc.lineAt(pos.line).range);
      },
    }),
  );

  const lensChanged = new vscode.EventEmitter<void>();
  context.subscriptions.push(
    lensChanged,
    vscode.workspace.onDidChangeTextDocument(() => lensChanged.fire()),
    vscode.languages.registerCodeLensProvider(selector, {
      onDidChangeCodeLenses: lensChanged.event,
      provideCodeLenses(doc) {
        if (!isDataset(doc) || tooLarge(doc, limits.lensLines)) return [];
        const lenses: vscode.CodeLens[] = [];
        for (let i = 0; i < doc.lineCount; i++) {
          const rec = recordAt(doc, i);
          if (!rec) continue;
          const ann = readAnnotation(rec);
          if (ann.label === undefined && ann.judge?.score === undefined) continue;
          const range = new vscode.Range(i, 0, i, 0);
          const title = [ann.label ?? 'unlabeled', ann.judge?.score !== undefined ? `score ${ann.judge.score}` : '', ann.reviewStatus ?? '']
            .filter(Boolean)
            .join(' · ');
          lenses.push(new vscode.CodeLens(range, { title, command: '' }));
          lenses.push(new vscode.CodeLens(range, { title: 'Relabel', command: 'datasetCurator.relabelLine', arguments: [doc.uri, i] }));
        }
        return lenses;
      },
    }),
  );

  context.subscriptions.push(
    vscode.languages.registerCodeActionsProvider(
      selector,
      {
        provideCodeActions(doc, range) {
          if (!isDataset(doc) || tooLarge(doc, limits.diagnosticsLines)) return [];
          const rec = recordAt(doc, range.start.line);
          if (!rec) return [];
          const current = readAnnotation(rec).label;
          return labelsOf(doc)
            .filter((l) => l !== current)
            .map((label) => {
              const action = new vscode.CodeAction(`Relabel as "${label}"`, vscode.CodeActionKind.QuickFix);
              action.edit = relabelEdit(doc, range.start.line, rec, label);
              return action;
            });
        },
      },
      { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] },
    ),
  );

  context.subscriptions.push(
    vscode.commands.registerCommand('datasetCurator.relabelLine', async (uri: vscode.Uri, line: number) => {
      const doc = await vscode.workspace.openTextDocument(uri);
      const rec = recordAt(doc, line);
      if (!rec) {
        void vscode.window.showWarningMessage(`Line ${line + 1} is not a valid record.`);
        return;
      }
      const choices = labelsOf(doc);
      const label = choices.length
        ? await vscode.window.showQuickPick(choices, { placeHolder: `Label for line ${line + 1}` })
        : await vscode.window.showInputBox({ prompt: `Label for line ${line + 1}` });
      if (!label) return;
      await vscode.workspace.applyEdit(relabelEdit(doc, line, rec, label));
    }),
  );
}

function relabelEdit(doc: vscode.TextDocument, line: number, rec: Record<string, unknown>, label: string): vscode.WorkspaceEdit {
  const next = applyAnnotationEdit(rec, { op: 'relabel', index: line, label });
  const edit = new vscode.WorkspaceEdit();
  edit.replace(doc.uri, doc.lineAt(line).range, JSON.stringify(next));
  return edit;
}
