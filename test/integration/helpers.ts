import * as vscode from 'vscode';
import type { DatasetCuratorApi } from '../../src/extension/extension';

export const extensionId = 'dataset-curator.dataset-curator';

export async function activateExtension(): Promise<DatasetCuratorApi> {
  const ext = vscode.extensions.getExtension<DatasetCuratorApi>(extensionId);
  if (!ext) throw new Error(`extension ${extensionId} is not loaded`);
  return ext.activate();
}

export function workspaceFolder(): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the integration tests need a workspace folder');
  return folder.uri;
}

export async function waitFor<T>(
  what: string,
  fn: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = String(err); // not there yet (a reload in progress, say)
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A file in the workspace's scratch folder: a copy of the sample, or the given content. */
export async function scratchFile(name: string, content?: string): Promise<vscode.Uri> {
  const dst = vscode.Uri.joinPath(workspaceFolder(), 'scratch', name);
  if (content === undefined)
    await vscode.workspace.fs.copy(vscode.Uri.joinPath(workspaceFolder(), 'samples', 'reviews.jsonl'), dst, {
      overwrite: true,
    });
  else await vscode.workspace.fs.writeFile(dst, Buffer.from(content));
  return dst;
}

/** Opens a file in the Curation Editor and waits for its document to be indexed. */
export async function openInCurationEditor(api: DatasetCuratorApi, uri: vscode.Uri) {
  await vscode.commands.executeCommand('vscode.openWith', uri, 'datasetCurator.curationEditor');
  const doc = await waitFor('the document', () => api.editors.documentFor(uri));
  await doc.store.ready;
  return doc;
}
