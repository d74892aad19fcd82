// Who decides in this editor (docs/git.md): the `datasetCurator.annotator` setting, else the git
// identity of the file's repository (user.name, else user.email), read once per folder; in an
// untrusted workspace only the setting.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { setting } from './settings';

const byFolder = new Map<string, string | undefined>();

function gitConfig(dir: string, key: string): string {
  try {
    return execFileSync('git', ['config', '--get', key], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 3000,
      windowsHide: true,
    })
      .toString()
      .trim();
  } catch {
    return '';
  }
}

/** The person deciding on `uri`'s records, or undefined when neither the setting nor git says. */
export function annotatorFor(uri: vscode.Uri): string | undefined {
  const set = setting('annotator', uri).trim();
  if (set) return set;
  // git runs no command of an untrusted repository's choosing here, but stay out of it anyway
  if (uri.scheme !== 'file' || !vscode.workspace.isTrusted) return undefined;
  const dir = path.dirname(uri.fsPath);
  if (!byFolder.has(dir)) byFolder.set(dir, gitConfig(dir, 'user.name') || gitConfig(dir, 'user.email') || undefined);
  return byFolder.get(dir);
}
