// For .jsonl files opened in the plain text editor: a Problems entry per invalid, lossy or
// layout-breaking line, a hover with the record's label, score and rationale, a CodeLens with the
// label and score and a "Relabel" action, and quick fixes to relabel. Above the limits they stand
// down, and say so: one information entry in the Problems panel (and a CodeLens at the top when
// only the CodeLens limit is passed). The checks run in slices that let the extension host breathe.
import * as vscode from 'vscode';
import { checkLineBytes, lossyReason } from '../core/store';
import { readAnnotation } from '../core/schema/annotation';
import { annotationProblems } from '../core/schema/check-annotation';
import { applyAnnotationEdit } from '../core/annotate-edits';
import { inferLabels } from '../core/session/session';
import { answerText } from '../core/session/questions';
import { answerProblems, answersOf } from '../core/questions/layout';
import type { Question } from '../core/questions/schema';
import { declaredQuestions } from './questions';
import { setting } from './settings';
import { annotatorFor } from './annotator';
import type { Log } from './log';

const selector: vscode.DocumentSelector = [{ pattern: '**/*.jsonl' }, { language: 'jsonl' }];

/** Above these, the text features stand down (VS Code does not even sync files over 50 MB). */
export const limits = { diagnosticsLines: 200_000, lensLines: 5_000, bytes: 20 * 1024 * 1024 };
const SOURCE = 'Dataset Curator';

type LineState =
  { kind: 'record'; value: Record<string, unknown>; lossy?: string } | { kind: 'invalid'; reason: string };

function lineState(text: string, withLossy: boolean): LineState {
  const c = checkLineBytes(Buffer.from(text, 'utf8'));
  if (c.invalid || !c.value) return { kind: 'invalid', reason: c.invalid?.reason ?? 'not a record' };
  return { kind: 'record', value: c.value, ...(withLossy ? { lossy: lossyReason(text) } : {}) };
}

function isDataset(doc: vscode.TextDocument): boolean {
  return doc.uri.path.endsWith('.jsonl');
}

function byteSize(doc: vscode.TextDocument): number {
  // UTF-16 length is a close, cheap stand-in (never under the byte count by more than 3x).
  return doc.offsetAt(new vscode.Position(doc.lineCount, 0));
}

/** Why the line features are off for a document, or undefined when they are on. */
export function tooLargeReason(doc: vscode.TextDocument): string | undefined {
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
  if (doc.lineCount > limits.diagnosticsLines)
    return `${doc.lineCount.toLocaleString('en-US')} lines (the limit is ${limits.diagnosticsLines.toLocaleString('en-US')})`;
  const size = byteSize(doc);
  if (size > limits.bytes) return `${mb(size)} (the limit is ${mb(limits.bytes)})`;
  return undefined;
}

function recordAt(doc: vscode.TextDocument, line: number): LineState | undefined {
  if (line < 0 || line >= doc.lineCount) return undefined;
  return lineState(doc.lineAt(line).text, true);
}

/** The label set per document version: the setting, else the labels seen in the first lines (the editor session's inference). */
const labelCache = new WeakMap<vscode.TextDocument, { version: number; labels: string[] }>();
function labelsOf(doc: vscode.TextDocument): string[] {
  const configured = setting('labels', doc.uri);
  if (configured.length > 0) return configured;
  const hit = labelCache.get(doc);
  if (hit && hit.version === doc.version) return hit.labels;
  const labels = inferLabels(doc.lineCount, (i) => {
    const raw = doc.lineAt(i).text;
    const s = lineState(raw, false);
    return { raw, value: s.kind === 'record' ? s.value : undefined };
  });
  labelCache.set(doc, { version: doc.version, labels });
  return labels;
}

/** A document's declared questions (none, or a declaration that cannot be read: none, and why). */
function questionsOf(doc: vscode.TextDocument): { questions: Question[]; error?: string } {
  if (doc.uri.scheme !== 'file') return { questions: [] };
  try {
    return { questions: declaredQuestions(doc.uri.fsPath) };
  } catch (err) {
    return { questions: [], error: err instanceof Error ? err.message : String(err) };
  }
}

/** Who gave an answer that does not fit, for a message. */
function whose(p: { who: 'human' | 'model'; agent?: string; position?: number }): string {
  return p.who === 'human' ? "the person's answer" : `the suggestion of ${p.agent ?? `model ${(p.position ?? 0) + 1}`}`;
}

function lineDiagnostics(
  doc: vscode.TextDocument,
  i: number,
  questions: readonly Question[] = [],
): vscode.Diagnostic[] {
  const line = doc.lineAt(i);
  const s = lineState(line.text, true);
  const range = line.range.isEmpty ? new vscode.Range(i, 0, i, 0) : line.range;
  const diag = (message: string, severity: vscode.DiagnosticSeverity) => {
    const d = new vscode.Diagnostic(range, message, severity);
    d.source = SOURCE;
    return d;
  };
  if (s.kind === 'invalid') {
    // The last line of a file that ends with a newline is empty: that is not a problem.
    if (i === doc.lineCount - 1 && line.text === '') return [];
    return [diag(`Invalid record: ${s.reason}`, vscode.DiagnosticSeverity.Error)];
  }
  const out: vscode.Diagnostic[] = [];
  if (s.lossy) out.push(diag(`Field edits would lose information: ${s.lossy}`, vscode.DiagnosticSeverity.Warning));
  for (const p of annotationProblems(s.value))
    out.push(diag(`Annotation layout: ${p}`, vscode.DiagnosticSeverity.Warning));
  for (const p of answerProblems(s.value, questions))
    out.push(
      diag(`Question "${p.question}": ${whose(p)} does not fit: ${p.reason}`, vscode.DiagnosticSeverity.Warning),
    );
  return out;
}

export function registerTextFeatures(context: vscode.ExtensionContext, log: Log): void {
  const diagnostics = vscode.languages.createDiagnosticCollection('datasetCurator');
  context.subscriptions.push(diagnostics);
  /** The run in progress per document: a newer version cancels it. */
  const runs = new Map<string, { cancelled: boolean }>();

  const refresh = (doc: vscode.TextDocument) => {
    if (!isDataset(doc)) return;
    const key = doc.uri.toString();
    const previous = runs.get(key);
    if (previous) previous.cancelled = true;
    const why = tooLargeReason(doc);
    if (why) {
      runs.delete(key);
      const d = new vscode.Diagnostic(
        new vscode.Range(0, 0, 0, 0),
        `Line checks, hovers, CodeLens and quick fixes are off for this file: ${why}. The Curation Editor reads files of any size (Dataset Curator: Open in Curation Editor), and "curate validate" checks every line.`,
        vscode.DiagnosticSeverity.Information,
      );
      d.source = SOURCE;
      diagnostics.set(doc.uri, [d]);
      log.info(`${doc.uri.fsPath}: text editor features off (${why})`);
      return;
    }
    const run = { cancelled: false };
    runs.set(key, run);
    const version = doc.version;
    const found: vscode.Diagnostic[] = [];
    const { questions, error } = questionsOf(doc);
    if (error) {
      const d = new vscode.Diagnostic(
        new vscode.Range(0, 0, 0, 0),
        `The questions of this dataset cannot be read: ${error}`,
        vscode.DiagnosticSeverity.Warning,
      );
      d.source = SOURCE;
      found.push(d);
    }
    let i = 0;
    const slice = () => {
      if (run.cancelled || doc.isClosed || doc.version !== version) return;
      const until = Date.now() + 15;
      while (i < doc.lineCount && Date.now() < until) {
        for (const end = Math.min(doc.lineCount, i + 256); i < end; i++)
          found.push(...lineDiagnostics(doc, i, questions));
      }
      if (i < doc.lineCount) {
        setImmediate(slice);
        return;
      }
      runs.delete(key);
      diagnostics.set(doc.uri, found);
    };
    slice();
  };
  const timers = new Map<string, NodeJS.Timeout>();
  const schedule = (doc: vscode.TextDocument) => {
    if (!isDataset(doc)) return;
    const key = doc.uri.toString();
    clearTimeout(timers.get(key));
    timers.set(
      key,
      setTimeout(() => refresh(doc), 300),
    );
  };
  vscode.workspace.textDocuments.forEach(refresh);
  context.subscriptions.push(
    vscode.workspace.onDidOpenTextDocument(refresh),
    vscode.workspace.onDidChangeTextDocument((e) => schedule(e.document)),
    vscode.workspace.onDidCloseTextDocument((doc) => {
      const run = runs.get(doc.uri.toString());
      if (run) run.cancelled = true;
      clearTimeout(timers.get(doc.uri.toString()));
      diagnostics.delete(doc.uri);
    }),
  );

  context.subscriptions.push(
    vscode.languages.registerHoverProvider(selector, {
      provideHover(doc, pos) {
        if (!isDataset(doc) || tooLargeReason(doc)) return undefined;
        const s = recordAt(doc, pos.line);
        if (s?.kind !== 'record') return undefined;
        const ann = readAnnotation(s.value);
        const suggestion = ann.suggestions.find((x) => x.question === 'label' && x.type === 'model');
        const { questions } = questionsOf(doc);
        if (
          ann.label === undefined &&
          ann.judge?.score === undefined &&
          !ann.rationale &&
          !suggestion &&
          questions.length === 0
        )
          return undefined;
        const md = new vscode.MarkdownString(undefined, false);
        md.isTrusted = false;
        md.supportHtml = false;
        const row = (name: string, text: string) => {
          if (md.value) md.appendMarkdown('  \n');
          md.appendMarkdown(`**${name}** `);
          md.appendText(text);
        };
        if (ann.label !== undefined || questions.length === 0) row('Label', ann.label ?? '(none)');
        // The question's name comes from a file: as text, like the answers.
        for (const q of questions) row('Question', `${q.title ?? q.name}: ${questionSummary(s.value, q)}`);
        if (suggestion) {
          const conf = suggestion.score !== undefined ? ` (${Math.round(suggestion.score * 100)}%)` : '';
          row(
            'Model suggestion',
            `${typeof suggestion.value === 'string' ? suggestion.value : JSON.stringify(suggestion.value)}${conf}${suggestion.agent ? ` by ${suggestion.agent}` : ''}`,
          );
        }
        if (ann.judge?.score !== undefined)
          row('Judge score', `${ann.judge.score}${ann.judge.scale ? ` / ${ann.judge.scale[1]}` : ''}`);
        if (ann.judge?.reasons) row('Judge reasons', ann.judge.reasons);
        if (ann.rationale) row('Rationale', ann.rationale);
        if (ann.reviewStatus) row('Review', ann.reviewStatus);
        return new vscode.Hover(md, doc.lineAt(pos.line).range);
      },
    }),
  );

  const lensChanged = new vscode.EventEmitter<void>();
  context.subscriptions.push(
    lensChanged,
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (isDataset(e.document)) lensChanged.fire();
    }),
    vscode.languages.registerCodeLensProvider(selector, {
      onDidChangeCodeLenses: lensChanged.event,
      provideCodeLenses(doc, token) {
        if (!isDataset(doc) || tooLargeReason(doc)) return [];
        if (doc.lineCount > limits.lensLines) {
          return [
            new vscode.CodeLens(new vscode.Range(0, 0, 0, 0), {
              title: `Dataset Curator: no per-line CodeLens above ${limits.lensLines.toLocaleString('en-US')} lines (this file has ${doc.lineCount.toLocaleString('en-US')}); hover a line for its label, use the light bulb to relabel`,
              command: '',
            }),
          ];
        }
        const lenses: vscode.CodeLens[] = [];
        const { questions } = questionsOf(doc);
        for (let i = 0; i < doc.lineCount && !token.isCancellationRequested; i++) {
          const s = lineState(doc.lineAt(i).text, false);
          if (s.kind !== 'record') continue;
          const ann = readAnnotation(s.value);
          const range = new vscode.Range(i, 0, i, 0);
          const title = [
            ann.label ?? (questions.length ? '' : 'unlabeled'),
            ...questions.map((q) => {
              const c = answersOf(s.value, q).current;
              return `${q.name}: ${c ? `${answerText(q, c.value)}${c.source === 'model' ? ' (model)' : ''}${c.problem ? ' ⚠' : ''}` : '–'}`;
            }),
            ann.judge?.score !== undefined ? `score ${ann.judge.score}` : '',
            ann.reviewStatus ?? '',
          ]
            .filter(Boolean)
            .join(' · ');
          lenses.push(new vscode.CodeLens(range, { title, command: '' }));
          lenses.push(
            new vscode.CodeLens(range, {
              title: 'Relabel',
              tooltip: `Relabel line ${i + 1}`,
              command: 'datasetCurator.relabelLine',
              arguments: [doc.uri, i],
            }),
          );
        }
        return lenses;
      },
    }),
  );

  context.subscriptions.push(
    vscode.languages.registerCodeActionsProvider(
      selector,
      {
        provideCodeActions(doc, range, ctx) {
          if (!isDataset(doc) || tooLargeReason(doc)) return [];
          if (
            ctx.only &&
            !vscode.CodeActionKind.QuickFix.contains(ctx.only) &&
            !ctx.only.contains(vscode.CodeActionKind.QuickFix)
          )
            return [];
          const s = recordAt(doc, range.start.line);
          // A lossy record would lose information when rewritten: no one-click relabel for it.
          if (s?.kind !== 'record' || s.lossy) return [];
          const current = readAnnotation(s.value).label;
          return labelsOf(doc)
            .filter((l) => l !== current)
            .map((label) => {
              const action = new vscode.CodeAction(`Relabel as "${label}"`, vscode.CodeActionKind.QuickFix);
              action.edit = relabelEdit(doc, range.start.line, s.value, label);
              return action;
            });
        },
      },
      { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] },
    ),
  );

  context.subscriptions.push(
    vscode.commands.registerCommand(
      'datasetCurator.relabelLine',
      async (uri: vscode.Uri, line: number, chosen?: string) => {
        const doc = await vscode.workspace.openTextDocument(uri);
        const s = recordAt(doc, line);
        if (s?.kind !== 'record') {
          void vscode.window.showWarningMessage(`Line ${line + 1} is not a valid record${s ? `: ${s.reason}` : ''}.`);
          return;
        }
        if (s.lossy) {
          void vscode.window.showWarningMessage(
            `Line ${line + 1} cannot be relabeled here without losing information (${s.lossy}). Edit it by hand.`,
          );
          return;
        }
        const choices = labelsOf(doc);
        const label =
          chosen ??
          (choices.length
            ? await vscode.window.showQuickPick(choices, { placeHolder: `Label for line ${line + 1}` })
            : await vscode.window.showInputBox({ prompt: `Label for line ${line + 1}` }));
        if (!label) return;
        await vscode.workspace.applyEdit(relabelEdit(doc, line, s.value, label));
      },
    ),
  );
}

/** A question's answers in a record for the hover: the person's decision, then each model's suggestion. */
function questionSummary(record: Record<string, unknown>, q: Question): string {
  const a = answersOf(record, q);
  const parts: string[] = [];
  if (a.human)
    parts.push(
      a.human.status === 'discarded'
        ? 'suggestions rejected'
        : `${answerText(q, a.human.value)} (${a.human.user ? `by ${a.human.user}` : 'a person'}${a.human.status === 'submitted' ? '' : `, ${a.human.status}`})`,
    );
  else parts.push('no answer yet');
  for (const s of a.suggestions)
    parts.push(
      `${s.agent ?? s.type} suggests ${answerText(q, s.value)}${s.score !== undefined ? ` (${Math.round(s.score * 100)}%)` : ''}`,
    );
  const problems = [a.human?.problem, ...a.suggestions.map((s) => s.problem)].filter((p) => p !== undefined);
  if (problems.length) parts.push(`does not fit: ${problems.join('; ')}`);
  return parts.join(' · ');
}

function relabelEdit(
  doc: vscode.TextDocument,
  line: number,
  rec: Record<string, unknown>,
  label: string,
): vscode.WorkspaceEdit {
  const next = applyAnnotationEdit(rec, { op: 'relabel', index: line, label }, new Date(), annotatorFor(doc.uri));
  const edit = new vscode.WorkspaceEdit();
  edit.replace(doc.uri, doc.lineAt(line).range, JSON.stringify(next));
  return edit;
}
