// "Show Agreement Report", "Find Duplicates…" and "Send Low-Confidence Records to Review…": each
// opens the file in the Curation Editor, asks what it needs, runs the core's operation over the
// document (its unsaved edits included) and shows the result in the editor's view for it.
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { DuplicateSearch } from '../shared/protocol';
import { CurationEditorProvider, type DatasetDocument } from './curationEditor';
import { readEndpointSettings } from './settings';

async function openDocument(uri: vscode.Uri, editors: CurationEditorProvider): Promise<DatasetDocument> {
  await vscode.commands.executeCommand('vscode.openWith', uri, CurationEditorProvider.viewType);
  const doc = editors.documentFor(uri);
  if (!doc) throw new Error(`${path.basename(uri.fsPath)} could not be opened in the Curation Editor`);
  await doc.store.ready;
  return doc;
}

function unitNumber(v: string, what: string): string | undefined {
  const n = Number(v);
  return v.trim() !== '' && Number.isFinite(n) && n > 0 && n <= 1 ? undefined : `${what}: a number above 0, at most 1`;
}

export async function showAgreementCommand(uri: vscode.Uri, editors: CurationEditorProvider): Promise<void> {
  const doc = await openDocument(uri, editors);
  editors.assessment.show(doc, 'agreement');
}

/** Asks how to look for duplicates; undefined when the user backs out. */
export async function askDuplicateSearch(uri: vscode.Uri): Promise<DuplicateSearch | undefined> {
  const name = path.basename(uri.fsPath);
  type Item = vscode.QuickPickItem & { method: DuplicateSearch['method'] };
  const pick = await vscode.window.showQuickPick<Item>(
    [
      {
        label: '$(symbol-string) Exact duplicates',
        description: 'the same text after normalizing case, spaces and Unicode',
        method: 'exact',
      },
      {
        label: '$(symbol-misc) Near-duplicates',
        description: 'MinHash + LSH over word shingles: a few words changed',
        method: 'near',
      },
      {
        label: '$(sparkle) Semantic duplicates',
        description: "the same meaning, through the endpoint's /embeddings",
        method: 'semantic',
      },
    ],
    { title: `Find Duplicates in ${name}`, placeHolder: 'How alike must records be?' },
  );
  if (!pick) return undefined;
  if (pick.method === 'exact') return { method: 'exact' };
  const semantic = pick.method === 'semantic';
  const threshold = await vscode.window.showInputBox({
    title: `Find Duplicates in ${name}: ${semantic ? 'cosine similarity' : 'Jaccard similarity'}`,
    prompt: semantic
      ? 'Records whose embeddings have at least this cosine similarity are duplicates.'
      : 'Records whose word shingles overlap at least this much (estimated Jaccard) are duplicates.',
    value: semantic ? '0.92' : '0.8',
    ignoreFocusOut: true,
    validateInput: (v) => unitNumber(v, 'The threshold'),
  });
  if (!threshold) return undefined;
  if (!semantic) return { method: 'near', threshold: Number(threshold) };
  const model = await vscode.window.showInputBox({
    title: `Find Duplicates in ${name}: embeddings model`,
    prompt: `The model the endpoint (${readEndpointSettings(uri).baseUrl}) embeds with. Cached per text: a second run is free.`,
    value: readEndpointSettings(uri).embeddingModel,
    ignoreFocusOut: true,
    validateInput: (v) => (v.trim() ? undefined : 'Name the embeddings model'),
  });
  if (!model) return undefined;
  return { method: 'semantic', threshold: Number(threshold), embeddingModel: model.trim() };
}

export async function findDuplicatesCommand(
  uri: vscode.Uri,
  editors: CurationEditorProvider,
  search?: DuplicateSearch,
): Promise<void> {
  const s = search ?? (await askDuplicateSearch(uri));
  if (!s) return;
  const doc = await openDocument(uri, editors);
  const found = await editors.assessment.findDuplicates(doc, s);
  if (!found) return;
  editors.assessment.show(doc, 'duplicates');
  void vscode.window.showInformationMessage(
    found.clusters === 0
      ? `No duplicates in ${path.basename(uri.fsPath)} (${found.searched} records compared).`
      : `${found.clusters} duplicate cluster(s) in ${path.basename(uri.fsPath)}: ${found.extra} record(s) beyond one per cluster. Review them in the Curation Editor.`,
  );
}

export async function sendToReviewCommand(
  uri: vscode.Uri,
  editors: CurationEditorProvider,
  threshold?: number,
): Promise<void> {
  const name = path.basename(uri.fsPath);
  let t = threshold;
  if (t === undefined) {
    const v = await vscode.window.showInputBox({
      title: `Send Low-Confidence Records of ${name} to Review`,
      prompt:
        "Records whose model confidence (the top suggestion's score) is below this go to the human review queue, and so do records without a suggestion. Records a person already decided are left alone.",
      value: '0.8',
      ignoreFocusOut: true,
      validateInput: (x) => unitNumber(x, 'The confidence threshold'),
    });
    if (!v) return;
    t = Number(v);
  }
  const doc = await openDocument(uri, editors);
  const r = await editors.assessment.for(doc).sendToReview(t);
  if (!r) return;
  const waiting = r.queue.indices.length;
  if (waiting === 0) {
    void vscode.window.showInformationMessage(
      `No record of ${name} is below confidence ${t}: nothing to review (${r.queue.automatic} left to the model, ${r.queue.skipped} already decided or invalid).`,
    );
    return;
  }
  editors.assessment.show(doc, 'record', r.first);
  void vscode.window.showInformationMessage(
    `${waiting} record(s) of ${name} are in the review queue${r.sent < waiting ? ` (${r.sent} newly sent)` : ''}; ${r.queue.automatic} left to the model. Press q in the Curation Editor to step through them.`,
  );
}
