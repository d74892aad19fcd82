// A read-only preview of a Parquet file (a custom editor of its own, beside the curation editor):
// its row count, row groups and columns, and its first rows as JSON text, a page at a time, with
// "Convert to JSONL to edit", which writes FILE.jsonl beside it (src/core/formats, streamed by row
// group) and opens that in the curation editor. Rows reach the page as text only (textContent);
// the page's messages are checked with zod before anything is done.
import * as vscode from 'vscode';
import * as path from 'node:path';
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { parquetInfo, readParquetRows } from '../core/formats/parquet';
import { convertOperation } from '../core/formats/convert';
import { toJsonText } from '../core/formats/json-text';
import { CurationEditorProvider } from './curationEditor';
import { pageNonce, pageStart } from './webviewPage';
import type { Log } from './log';

const PAGE = 100;

/** What the page asks (checked before it is acted on). */
const FromPage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('more'), from: z.number().int().min(0) }),
  z.object({ type: z.literal('convert') }),
]);

class ParquetDocument implements vscode.CustomDocument {
  constructor(readonly uri: vscode.Uri) {}
  dispose(): void {}
}

export class ParquetPreviewProvider implements vscode.CustomReadonlyEditorProvider<ParquetDocument> {
  static readonly viewType = 'datasetCurator.parquetPreview';

  constructor(private readonly log: Log) {}

  static register(log: Log): vscode.Disposable {
    return vscode.Disposable.from(
      vscode.window.registerCustomEditorProvider(ParquetPreviewProvider.viewType, new ParquetPreviewProvider(log), {
        webviewOptions: { retainContextWhenHidden: false },
        supportsMultipleEditorsPerDocument: true,
      }),
      vscode.commands.registerCommand('datasetCurator.convertParquetToJsonl', async (uri?: vscode.Uri) => {
        // the file given (a menu), the Parquet preview in front, or one picked
        const tab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
        const front = tab instanceof vscode.TabInputCustom && /\.parquet$/i.test(tab.uri.fsPath) ? tab.uri : undefined;
        const target =
          uri ??
          front ??
          (
            await vscode.window.showOpenDialog({
              title: 'Convert a Parquet file to JSONL',
              filters: { Parquet: ['parquet'] },
              canSelectMany: false,
            })
          )?.[0];
        return target ? convertAndOpen(target, log) : undefined;
      }),
    );
  }

  openCustomDocument(uri: vscode.Uri): ParquetDocument {
    return new ParquetDocument(uri);
  }

  resolveCustomEditor(doc: ParquetDocument, panel: vscode.WebviewPanel): void {
    const webview = panel.webview;
    webview.options = { enableScripts: true, localResourceRoots: [] };
    webview.html = page(pageNonce(), path.basename(doc.uri.fsPath));
    const file = doc.uri.fsPath;
    const post = (m: unknown) => void webview.postMessage(m);
    const sendRows = async (from: number) => {
      const rows: string[] = [];
      for await (const r of readParquetRows(file, { rowStart: from, rowEnd: from + PAGE })) rows.push(toJsonText(r, 2));
      post({ type: 'rows', from, rows });
    };
    panel.webview.onDidReceiveMessage(async (raw: unknown) => {
      const msg = FromPage.safeParse(raw);
      if (!msg.success) {
        this.log.error(`Parquet preview: an unexpected message from the page: ${msg.error.message}`);
        return;
      }
      try {
        if (msg.data.type === 'ready') {
          const info = await parquetInfo(file);
          post({
            type: 'info',
            rows: info.rows,
            rowGroups: info.rowGroups,
            columns: info.columns,
            createdBy: info.createdBy ?? '',
          });
          await sendRows(0);
        } else if (msg.data.type === 'more') await sendRows(msg.data.from);
        else await convertAndOpen(doc.uri, this.log);
      } catch (err) {
        const text = err instanceof Error ? err.message : String(err);
        this.log.error(`Parquet preview of ${file}`, err);
        post({ type: 'error', text });
      }
    });
  }
}

/** Converts a Parquet file to JSONL beside it (asking before replacing one) and opens it in the curation editor. */
export async function convertAndOpen(uri: vscode.Uri, log: Log): Promise<vscode.Uri | undefined> {
  const input = uri.fsPath;
  let out = vscode.Uri.file(input.replace(/\.parquet$/i, '') + '.jsonl');
  if (existsSync(out.fsPath)) {
    const pick = await vscode.window.showSaveDialog({
      title: `Convert ${path.basename(input)} to JSONL`,
      defaultUri: out,
      filters: { 'JSON Lines': ['jsonl'] },
    });
    if (!pick) return undefined;
    out = pick;
  }
  const done = await vscode.window
    .withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Converting ${path.basename(input)} to JSONL`,
        cancellable: true,
      },
      async (progress, token) => {
        const ac = new AbortController();
        token.onCancellationRequested(() => ac.abort());
        let last = 0;
        return convertOperation.run(
          convertOperation.options.parse({ file: input, out: out.fsPath, format: 'parquet', overwrite: true }),
          {
            signal: ac.signal,
            log: (line) => log.info(line),
            progress: (p) => {
              const share = p.total ? p.done / p.total : 0;
              progress.report({
                increment: (share - last) * 100,
                message: `${p.done.toLocaleString('en-US')}${p.total ? ` of ${p.total.toLocaleString('en-US')}` : ''} rows`,
              });
              last = share;
            },
          },
        );
      },
    )
    .then(
      (r) => r,
      (err: unknown) => {
        if (err instanceof Error && err.name === 'AbortError') return undefined;
        void vscode.window.showErrorMessage(
          `Converting ${path.basename(input)} failed: ${err instanceof Error ? err.message : String(err)}`,
        );
        log.error(`Converting ${input}`, err);
        return undefined;
      },
    );
  if (!done) return undefined;
  log.info(`Converted ${input} to ${out.fsPath}: ${done.records} record(s) in ${done.ms} ms`);
  await vscode.commands.executeCommand('vscode.openWith', out, CurationEditorProvider.viewType);
  return out;
}

/** The page: a header, the rows as text, a "Show more" and a "Convert to JSONL to edit" button. */
function page(nonce: string, name: string): string {
  const csp = [`default-src 'none'`, `script-src 'nonce-${nonce}'`, `style-src 'nonce-${nonce}'`].join('; ');
  const title = name.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `${pageStart(csp)}
<title>${title}</title>
<style nonce="${nonce}">
  body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 16px 24px; }
  header { position: sticky; top: 0; background: var(--vscode-editor-background); padding: 10px 0; display: flex; gap: 12px; align-items: center; flex-wrap: wrap; border-bottom: 1px solid var(--vscode-panel-border); }
  #summary { color: var(--vscode-descriptionForeground); }
  button { background: var(--vscode-button-background); color: var(--vscode-button-foreground); border: none; padding: 4px 12px; cursor: pointer; font: inherit; }
  button:hover { background: var(--vscode-button-hoverBackground); }
  button.secondary { background: var(--vscode-button-secondaryBackground); color: var(--vscode-button-secondaryForeground); }
  .row { margin: 12px 0; }
  .row h3 { font-size: 0.9em; color: var(--vscode-descriptionForeground); margin: 0 0 4px; font-weight: normal; }
  pre { font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size); background: var(--vscode-textCodeBlock-background); padding: 8px; margin: 0; white-space: pre-wrap; word-break: break-word; }
  #error { color: var(--vscode-errorForeground); }
</style>
</head>
<body>
<header>
  <strong>Read-only Parquet preview</strong>
  <span id="summary">reading…</span>
  <button id="convert">Convert to JSONL to edit</button>
</header>
<p id="error"></p>
<main id="rows"></main>
<button id="more" class="secondary" hidden>Show more</button>
<script nonce="${nonce}">
  const vscode = acquireVsCodeApi();
  const rowsEl = document.getElementById('rows');
  const more = document.getElementById('more');
  let total = 0;
  let shown = 0;
  document.getElementById('convert').addEventListener('click', () => vscode.postMessage({ type: 'convert' }));
  more.addEventListener('click', () => { more.disabled = true; vscode.postMessage({ type: 'more', from: shown }); });
  window.addEventListener('message', (e) => {
    const m = e.data;
    if (m.type === 'info') {
      total = m.rows;
      document.getElementById('summary').textContent = m.rows.toLocaleString('en-US') + ' rows · ' + m.rowGroups + ' row group(s) · ' + m.columns.length + ' column(s): ' + m.columns.join(', ') + (m.createdBy ? ' · written by ' + m.createdBy : '');
    } else if (m.type === 'rows') {
      m.rows.forEach((text, k) => {
        const div = document.createElement('div');
        div.className = 'row';
        const h = document.createElement('h3');
        h.textContent = 'row ' + (m.from + k + 1);
        const pre = document.createElement('pre');
        pre.textContent = text;
        div.append(h, pre);
        rowsEl.append(div);
      });
      shown = m.from + m.rows.length;
      more.hidden = shown >= total;
      more.disabled = false;
      more.textContent = 'Show more (' + shown.toLocaleString('en-US') + ' of ' + total.toLocaleString('en-US') + ' shown)';
    } else if (m.type === 'error') {
      document.getElementById('error').textContent = m.text;
    }
  });
  vscode.postMessage({ type: 'ready' });
</script>
</body>
</html>`;
}
