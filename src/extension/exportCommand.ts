// "Export for Fine-Tuning…": the core's export operation over a dataset (SFT, preference, DPO,
// Alpaca, ShareGPT, Argilla, distilabel), with a format pick, a save dialog and progress. Reads
// the file on disk, so unsaved edits are saved first (or the user says no).
import * as vscode from 'vscode';
import * as path from 'node:path';
import { exportOperation, type ExportReport } from '../core/export/export';
import type { ExportFormat } from '../core/export/formats';
import { runWithProgress } from './jobs';
import type { CurationEditorProvider } from './curationEditor';
import type { Log } from './log';

const formats: { format: ExportFormat; label: string; detail: string }[] = [
  { format: 'sft', label: 'OpenAI chat fine-tuning (SFT)', detail: '{"messages": [...]} from a messages field, or instruction/input/output, or prompt/response' },
  { format: 'openai-preference', label: 'OpenAI preference fine-tuning', detail: 'input, preferred_output, non_preferred_output' },
  { format: 'dpo', label: 'TRL DPO', detail: 'prompt, chosen, rejected' },
  { format: 'distilabel-dpo', label: 'distilabel DPO', detail: 'prompt, chosen, rejected with models and ratings' },
  { format: 'alpaca', label: 'Alpaca', detail: 'instruction, input, output' },
  { format: 'sharegpt', label: 'ShareGPT', detail: 'conversations: [{from, value}]' },
  { format: 'argilla', label: 'Argilla records', detail: 'fields, suggestions with score and agent, responses' },
  { format: 'distilabel', label: 'distilabel columns', detail: 'instruction, generation, ratings, labels, model_name' },
];

export async function exportCommand(uri: vscode.Uri, editors: CurationEditorProvider, log: Log): Promise<ExportReport | undefined> {
  const name = path.basename(uri.fsPath);
  const doc = editors.documentFor(uri);
  if (doc?.isDirty) {
    const save = await vscode.window.showWarningMessage(`${name} has unsaved edits. Export reads the file on disk: save them first?`, { modal: true }, 'Save and Export');
    if (save !== 'Save and Export') return undefined;
    await doc.save();
  }
  const pick = await vscode.window.showQuickPick(
    formats.map((f) => ({ ...f, description: f.format })),
    { title: `Export ${name}`, placeHolder: 'The training format' },
  );
  if (!pick) return undefined;
  const out = await vscode.window.showSaveDialog({
    title: `Export ${name} as ${pick.label}`,
    defaultUri: vscode.Uri.file(uri.fsPath.replace(/(\.jsonl)?$/, `.${pick.format}.jsonl`)),
    filters: { 'JSON Lines': ['jsonl'] },
  });
  if (!out) return undefined;
  const options = exportOperation.options.parse({ file: uri.fsPath, out: out.fsPath, format: pick.format, overwrite: true });
  const r = await runWithProgress(exportOperation, options, { title: `Exporting ${name}` }, log);
  if (!r) return undefined;
  const msg = `Wrote ${r.written} ${pick.label} row(s) to ${path.basename(out.fsPath)}; ${r.skippedCount} record(s) skipped, ${r.invalid} invalid line(s).`;
  log.info(`Export ${name}: ${msg}`);
  for (const s of r.skipped.slice(0, 100)) log.info(`${name}:${s.index + 1}: skipped: ${s.reason}`);
  const open = await vscode.window.showInformationMessage(msg, 'Open', ...(r.skippedCount ? ['Show Skipped'] : []));
  if (open === 'Open') await vscode.commands.executeCommand('vscode.open', out);
  if (open === 'Show Skipped') log.show();
  return r;
}
