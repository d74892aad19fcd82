// The curation editor: a custom editor over the dataset store. The webview shows one record at a
// time; it asks the host for records by index and the host reads them from the store, which pages
// the file by byte offsets and never loads it whole. Edits go through VS Code's undo stack as the
// store's invertible overlay edits; save, revert and hot-exit backups use the store's atomic save.
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ZodError } from 'zod';
import {
  FromWebview,
  parseParams,
  type ParsedParams,
  type RecordPayload,
  type RequestMethod,
  type ToWebview,
  type WebviewRequest,
} from '../shared/protocol';
import { DatasetDocument, dialogPrompts, type ContentChange, type Prompts } from './datasetDocument';
import { AssessmentHub } from './assessment';
import type { Log } from './log';
import { coalesce } from '../core/coalesce';
import { setting } from './settings';
import { pageNonce, pageStart } from './webviewPage';
import { hostMark } from './benchMarks';

export { DatasetDocument } from './datasetDocument';

export class CurationEditorProvider implements vscode.CustomEditorProvider<DatasetDocument> {
  static readonly viewType = 'datasetCurator.curationEditor';
  private readonly webviews = new Map<string, Set<vscode.WebviewPanel>>();
  private readonly documents = new Map<string, DatasetDocument>();
  private readonly changeEmitter = new vscode.EventEmitter<vscode.CustomDocumentEditEvent<DatasetDocument>>();
  readonly onDidChangeCustomDocument = this.changeEmitter.event;
  /** How documents ask the user (dialogs); integration tests put answers here. */
  prompts: Prompts = dialogPrompts;
  /** The agreement report, duplicate clusters and review queue of each document. */
  readonly assessment: AssessmentHub;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: Log,
  ) {
    this.assessment = new AssessmentHub(context, log, (doc, message) => {
      for (const panel of this.panelsFor(doc.uri)) void panel.webview.postMessage(message);
    });
  }

  async openCustomDocument(
    uri: vscode.Uri,
    openContext: vscode.CustomDocumentOpenContext,
    _token: vscode.CancellationToken,
  ): Promise<DatasetDocument> {
    hostMark('open', uri.fsPath);
    const doc = await DatasetDocument.open(uri, openContext.backupId, this.log, () => this.prompts);
    const key = uri.toString();
    this.documents.set(key, doc);
    doc.onDidDispose(() => {
      if (this.documents.get(key) === doc) this.documents.delete(key);
    });
    doc.onDidEdit((e) => this.changeEmitter.fire(e));
    // VS Code asks for the editor (resolveCustomEditor) one round trip after this returns: the
    // page's first record and outline are read meanwhile, so that its html goes out at once then.
    // Meanwhile is after this answer has left: the extension host writes its messages on a timer
    // (its protocol writer's setTimeout, set as this promise resolves), and a setImmediate ran
    // before it, so the round trip waited for the read (3-23 ms for a large file's first records).
    // A timer set from a setImmediate fires after the writer's.
    setImmediate(() =>
      setTimeout(() => {
        // (not once an editor has it: resolveCustomEditor read the page itself)
        if (this.documents.get(key) !== doc || this.webviews.get(key)?.size) return;
        hostMark('prepare', uri.fsPath);
        this.prepared.set(doc, this.firstPage(doc));
        hostMark('prepared', uri.fsPath);
      }),
    );
    hostMark('opened', uri.fsPath);
    return doc;
  }

  /** The open document of a file, if the curation editor has it open. */
  documentFor(uri: vscode.Uri): DatasetDocument | undefined {
    return this.documents.get(uri.toString());
  }

  /** The document of the active curation editor, if one is active. */
  activeDocument(): DatasetDocument | undefined {
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    return tab instanceof vscode.TabInputCustom && tab.viewType === CurationEditorProvider.viewType
      ? this.documentFor(tab.uri)
      : undefined;
  }

  /** The panels showing a document (used by tests and commands). */
  panelsFor(uri: vscode.Uri): vscode.WebviewPanel[] {
    return [...(this.webviews.get(uri.toString()) ?? [])];
  }

  async saveCustomDocument(document: DatasetDocument, cancellation: vscode.CancellationToken): Promise<void> {
    await this.flushPanels(document);
    return document.save(cancellation);
  }

  async saveCustomDocumentAs(
    document: DatasetDocument,
    destination: vscode.Uri,
    cancellation: vscode.CancellationToken,
  ): Promise<void> {
    await this.flushPanels(document);
    return document.saveAs(destination, cancellation);
  }

  private flushId = 0;
  private readonly flushWaiters = new Map<number, () => void>();
  /**
   * Before a save: each panel of the document sends what is typed but not yet sent (a text answer
   * still in its box when Ctrl+S is pressed) as edits, then says `flushed`. A panel's messages
   * arrive in order and an edit is applied as it arrives, so once every panel has answered the
   * document has the typed text. A panel that does not answer (closed, not loaded) is waited for
   * FLUSH_TIMEOUT_MS at most: the save goes on without it.
   */
  private async flushPanels(document: DatasetDocument): Promise<void> {
    await Promise.all(
      this.panelsFor(document.uri).map(
        (panel) =>
          new Promise<void>((resolve) => {
            const id = ++this.flushId;
            const done = () => {
              clearTimeout(timer);
              this.flushWaiters.delete(id);
              resolve();
            };
            const timer = setTimeout(done, FLUSH_TIMEOUT_MS);
            this.flushWaiters.set(id, done);
            try {
              panel.webview.postMessage({ kind: 'event', type: 'flush', id } satisfies ToWebview).then(
                (delivered) => delivered || done(),
                () => done(),
              );
            } catch {
              done(); // disposed
            }
          }),
      ),
    );
  }

  revertCustomDocument(document: DatasetDocument, _cancellation: vscode.CancellationToken): Promise<void> {
    return document.revert();
  }

  backupCustomDocument(
    document: DatasetDocument,
    context: vscode.CustomDocumentBackupContext,
    _cancellation: vscode.CancellationToken,
  ): Promise<vscode.CustomDocumentBackup> {
    return document.backup(context.destination);
  }

  resolveCustomEditor(document: DatasetDocument, panel: vscode.WebviewPanel): void {
    hostMark('resolve', document.uri.fsPath);
    const key = document.uri.toString();
    const set = this.webviews.get(key) ?? new Set();
    set.add(panel);
    this.webviews.set(key, set);
    panel.onDidDispose(() => set.delete(panel));

    const webviewRoot = vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webview');
    panel.webview.options = { enableScripts: true, localResourceRoots: [webviewRoot] };
    // The first record travels with the page, so that the webview paints it without a round trip.
    const prepared = this.prepared.get(document);
    this.prepared.delete(document);
    const first = prepared && sameStamp(prepared.stamp, this.stampOf(document)) ? prepared : this.firstPage(document);
    panel.webview.html = this.html(panel.webview, webviewRoot, this.initEvent(document, first));
    hostMark('html', document.uri.fsPath);

    // The webview itself, not `panel.webview`: that getter throws once the panel is closed, and an
    // answer to the page can come after (a request in flight, a job's results); postMessage on a
    // closed webview only says it was not delivered.
    const webview = panel.webview;
    const post = (message: ToWebview) => void webview.postMessage(message);
    // A job's results arrive record by record (hundreds a second from a fast endpoint), and each
    // `changed` makes the page drop its caches and fetch again (the record, the list rows, the
    // stats, the search). Those are sent at most every CHANGED_EVERY_MS, the last always; the
    // person's own changes (edits, undo, redo, save, revert, reload) go at once.
    // This panel's own edit is not sent back: the page has the record (the edit's answer), so its
    // `changed` only says which record it edited; other panels of the document fetch it again.
    // (An own edit that also stands for a job's pending results is sent as a plain change.)
    let backgroundPending = false;
    const changed = coalesce((c: ContentChange) => {
      const own = c.by === panel && c.edited !== undefined && !backgroundPending;
      backgroundPending = false;
      post({
        kind: 'event',
        type: 'changed',
        info: document.session.info(),
        generation: document.generation,
        focus: c.focus,
        ...(c.background ? { background: true } : {}),
        ...(own ? { edited: c.edited } : {}),
      });
    }, CHANGED_EVERY_MS);
    const infoSub = document.onDidChangeContent((c) => {
      if (c.background) backgroundPending = true;
      changed(c, !c.background);
    });
    const keysSub = vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('datasetCurator.editor.keys'))
        post({ kind: 'event', type: 'keys', keys: setting('editor.keys') });
    });
    panel.onDidDispose(() => {
      infoSub.dispose();
      keysSub.dispose();
      changed.cancel();
    });

    panel.webview.onDidReceiveMessage((raw: unknown) => {
      const parsed = FromWebview.safeParse(raw);
      if (!parsed.success) {
        this.log.warn(`Curation editor: rejected a malformed message from the webview: ${parsed.error.message}`);
        const id = idOf(raw);
        if (id !== undefined) {
          post({ kind: 'response', id, ok: false, error: { message: 'Malformed request', code: 'bad-request' } });
        }
        return;
      }
      const msg = parsed.data;
      if (msg.kind === 'notify') {
        if (msg.type === 'ready') {
          hostMark('ready', document.uri.fsPath);
          // While a large file's index is still to come (it starts once the page is on screen), its
          // labels are the quick set the page already has: a full set read then (from the first
          // chunk's records, 600 of a 1 GB file, not kept) held the host 10-80 ms just after the
          // page appeared. The full set comes with the index's `changed`.
          const quick = !document.store.indexed;
          post(this.initEvent(document, this.firstPage(document, msg.index ?? document.currentIndex, quick)));
          hostMark('init', document.uri.fsPath);
          const show = this.assessment.for(document).pendingShow;
          if (show) post(show);
        } else if (msg.type === 'current') document.currentIndex = msg.index;
        else if (msg.type === 'columns') void this.context.workspaceState.update(columnsKey(document.uri), msg.columns);
        else if (msg.type === 'mode') this.assessment.shown(document, msg.mode);
        else if (msg.type === 'shown') {
          hostMark('shown', document.uri.fsPath);
          document.startIndexing();
        } else if (msg.type === 'flushed') this.flushWaiters.get(msg.id)?.();
        else this.log.info(`webview ${msg.level}: ${msg.message}`);
        return;
      }
      void this.handleRequest(document, msg, panel).then(post);
    });
  }

  private async handleRequest(
    document: DatasetDocument,
    req: WebviewRequest,
    panel: vscode.WebviewPanel,
  ): Promise<ToWebview> {
    try {
      const result = await this.dispatch(document, req.method, req.params, panel);
      return { kind: 'response', id: req.id, ok: true, result };
    } catch (err) {
      const message =
        err instanceof ZodError
          ? `Invalid parameters for ${req.method}: ${err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`
          : err instanceof Error
            ? err.message
            : String(err);
      const code = err instanceof StaleEditError ? { code: StaleEditError.code } : {};
      return { kind: 'response', id: req.id, ok: false, error: { message, ...code } };
    }
  }

  private async dispatch(
    document: DatasetDocument,
    method: RequestMethod,
    params: unknown,
    panel: vscode.WebviewPanel,
  ): Promise<unknown> {
    switch (method) {
      case 'getInfo':
        parseParams('getInfo', params);
        return document.session.info();
      case 'getRecord':
        return document.session.record(parseParams('getRecord', params).index);
      case 'getRows': {
        const p: ParsedParams<'getRows'> = parseParams('getRows', params);
        return document.session.rows(p.start, p.count, p.columns);
      }
      case 'search':
        return document.session.search(parseParams('search', params));
      case 'getMatchRows':
        return document.session.matchRows(parseParams('getMatchRows', params));
      case 'matchPosition':
        return document.session.matchPosition(parseParams('matchPosition', params));
      case 'edit': {
        const req = parseParams('edit', params);
        // A save under way (the person's, or a long job's in between) refuses edits until it ends: wait for it.
        await document.store.saveSettled();
        // Made before a revert or a reload from disk (the page had not heard of it yet): what was
        // typed then is not applied to the content that replaced it.
        if (req.generation !== document.generation) throw new StaleEditError();
        const record = document.edit(req, panel);
        // The walkthrough's "Relabel" step completes on this context key.
        if (req.op === 'relabel' || req.op === 'accept')
          void vscode.commands.executeCommand('setContext', 'datasetCurator.relabeled', true);
        return record;
      }
      case 'getStats':
        parseParams('getStats', params);
        return document.stats();
      case 'getAgreement':
        return this.assessment.for(document).agreement(parseParams('getAgreement', params));
      case 'getQueue':
        return this.assessment.for(document).queue(parseParams('getQueue', params).ifCheap);
      case 'getDuplicates': {
        const p = parseParams('getDuplicates', params);
        return this.assessment.for(document).duplicates(p.offset, p.limit);
      }
      case 'findDuplicates': {
        const found = await this.assessment.findDuplicates(document, parseParams('findDuplicates', params));
        if (!found) throw new Error('The search for duplicates was cancelled or failed (see the notification).');
        return found;
      }
      case 'resolveDuplicates': {
        const p = parseParams('resolveDuplicates', params);
        await document.store.saveSettled(); // as an edit does
        return this.assessment.for(document).resolve(p);
      }
    }
  }

  /** A document's first page read while VS Code asks for its editor (see openCustomDocument). */
  private readonly prepared = new WeakMap<DatasetDocument, FirstPage>();

  /** What a first page read from `document` depends on: its content (store, revision, generation) and current record. */
  private stampOf(document: DatasetDocument): unknown[] {
    return [document.store, document.store.revision, document.generation, document.currentIndex];
  }

  /**
   * What the webview starts from, read from the document: its info (`quick`: see
   * DatasetDocument.info), the record at `index`.
   */
  private firstPage(document: DatasetDocument, index = document.currentIndex, quick = true): FirstPage {
    const stamp = this.stampOf(document);
    const info = document.session.info({ quick });
    let record: RecordPayload | undefined;
    try {
      if (info.lineCount > 0) record = document.session.record(Math.min(index, info.lineCount - 1));
    } catch {
      record = undefined; // the webview asks for it and shows the error
    }
    // A huge line is better fetched on its own than inlined in the page.
    if (record && record.raw.length > MAX_INLINE_RECORD) record = undefined;
    return { stamp, info, generation: document.generation, record };
  }

  /** The webview's init event: `first` (the document's info and a record), the list's columns, the keys. */
  private initEvent(document: DatasetDocument, first: FirstPage): Extract<ToWebview, { type: 'init' }> {
    const listColumns = this.context.workspaceState.get<string[]>(columnsKey(document.uri));
    const keys = setting('editor.keys');
    return {
      kind: 'event',
      type: 'init',
      info: first.info,
      generation: first.generation,
      ...(first.record ? { record: first.record } : {}),
      ...(listColumns?.length ? { listColumns } : {}),
      ...(Object.keys(keys).length ? { keys } : {}),
    };
  }

  private assetCache: PageAssets | undefined;
  /**
   * The page's script and styles, to inline under the nonce: VS Code keeps a webview's frame
   * hidden until the page's load event (or a 200 ms fallback), so the page fetches nothing it
   * needs for the first paint. Read once per session.
   */
  private assets(root: vscode.Uri): PageAssets {
    if (!this.assetCache) {
      const read = (f: string) => readFileSync(vscode.Uri.joinPath(root, f).fsPath, 'utf8');
      const script = read('editor.js');
      const css = read('editor.css');
      // Text that could end or confuse its element is linked instead (the build never makes such text).
      this.assetCache = {
        script: /<\/script|<!--/i.test(script) ? undefined : script.replace(/\/\/# sourceMappingURL=\S+\s*$/, ''),
        css: /<\/style|<!--/i.test(css) ? undefined : css,
      };
    }
    return this.assetCache;
  }

  private html(webview: vscode.Webview, root: vscode.Uri, init: ToWebview): string {
    const nonce = pageNonce();
    // Data, not script (type application/json is never run); "<" escaped so no text can end the element.
    const data = JSON.stringify({ token: randomBytes(8).toString('hex'), event: init }).replace(/</g, '\\u003c');
    const uri = (f: string) => webview.asWebviewUri(vscode.Uri.joinPath(root, f)).toString();
    const { script, css } = this.assets(root);
    const styleTag =
      css === undefined
        ? `<link rel="stylesheet" href="${uri('editor.css')}" id="dc-styles">`
        : `<style nonce="${nonce}" id="dc-styles">${css}</style>`;
    // The codicons are linked, inert in a template, until the first record is on screen
    // (webview/editor/main.ts puts the link in the head): no icon is needed for it, and their
    // stylesheet and font (160 KB) are fetched then. Inlined, they were over half of the page's
    // bytes, which VS Code parses twice before the page starts (docs/performance.md).
    const lateStyles = `<template id="dc-late-styles"><link rel="stylesheet" href="${uri('codicon.css')}"></template>`;
    const scriptTag =
      script === undefined
        ? `<script type="module" nonce="${nonce}" src="${uri('editor.js')}"></script>`
        : `<script type="module" nonce="${nonce}">${script}//# sourceMappingURL=${uri('editor.js.map')}</script>`;
    const csp = [
      "default-src 'none'",
      `script-src 'nonce-${nonce}'`,
      `style-src ${webview.cspSource} 'nonce-${nonce}'`,
      `font-src ${webview.cspSource}`,
      `img-src ${webview.cspSource} data:`,
    ].join('; ');
    return `${pageStart(csp)}
${lateStyles}
${styleTag}
<meta id="dc-protocol" data-src="${uri('protocol.js')}">
<meta id="dc-components" data-src="${uri('components.js')}">
<meta id="dc-views" data-src="${uri('views.js')}">
<title>Dataset Curator</title>
</head>
<body>
<div id="app"></div>
<script type="application/json" id="dc-init">${data}</script>
${scriptTag}
</body>
</html>`;
  }
}

interface FirstPage {
  /** stampOf the document when read: used only while it is still the same. */
  stamp: unknown[];
  info: Extract<ToWebview, { type: 'init' }>['info'];
  generation: number;
  record: RecordPayload | undefined;
}

interface PageAssets {
  /** editor.js without its source map comment; undefined if it cannot be inlined (then linked). */
  script: string | undefined;
  /** editor.css; undefined if it cannot be inlined. */
  css: string | undefined;
}

/** Records longer than this are not inlined in the webview's page. */
const MAX_INLINE_RECORD = 256 * 1024;
/** How long a save waits for a panel to send what is typed in it (see flushPanels). */
const FLUSH_TIMEOUT_MS = 1500;
/** At most one `changed` from a job's results per this interval (see resolveCustomEditor). */
const CHANGED_EVERY_MS = 200;

function columnsKey(uri: vscode.Uri): string {
  return `datasetCurator.listColumns:${uri.toString()}`;
}

function sameStamp(a: unknown[], b: unknown[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function idOf(raw: unknown): number | undefined {
  if (raw && typeof raw === 'object' && 'id' in raw && typeof raw.id === 'number') return raw.id;
  return undefined;
}

/** An edit made against content that was reverted or reloaded since (see the protocol's Generation). */
class StaleEditError extends Error {
  static readonly code = 'stale';
  constructor() {
    super('Not applied: the file was reverted or reloaded from disk after this was typed');
  }
}
