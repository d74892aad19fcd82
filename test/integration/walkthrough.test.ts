// The "Get Started" walkthrough: its six steps in order, every command it links to (in a step's
// text, its markdown and its completion events) exists, every media file is in the extension,
// and its first step really opens the sample in the curation editor.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activateExtension, extensionId, waitFor } from './helpers';

interface Step {
  id: string;
  title: string;
  description: string;
  media: { markdown?: string; image?: string | Record<string, string> };
  completionEvents?: string[];
}

function commandLinks(text: string): string[] {
  return [...text.matchAll(/\(command:([\w.]+)(?:\?[^)]*)?\)/g)].map((m) => m[1]!);
}

describe('Walkthrough', () => {
  const ext = () => vscode.extensions.getExtension(extensionId)!;
  const walkthrough = () =>
    (ext().packageJSON as { contributes: { walkthroughs: { id: string; steps: Step[] }[] } }).contributes
      .walkthroughs[0]!;

  it('six steps: open the sample, relabel, set an endpoint, run a label job, filter, export', () => {
    assert.deepEqual(
      walkthrough().steps.map((s) => s.id),
      ['openSample', 'relabel', 'endpoint', 'label', 'filter', 'export'],
    );
    for (const s of walkthrough().steps) {
      assert.ok(s.title && s.description, `${s.id} has a title and a description`);
      assert.ok(commandLinks(s.description).length > 0, `${s.id} links to a command`);
    }
  });

  it('every command the walkthrough links to or waits for exists', async () => {
    await activateExtension();
    const all = new Set(await vscode.commands.getCommands(true));
    const linked = new Set<string>();
    for (const s of walkthrough().steps) {
      for (const c of commandLinks(s.description)) linked.add(c);
      if (s.media.markdown) {
        const md = Buffer.from(
          await vscode.workspace.fs.readFile(vscode.Uri.joinPath(ext().extensionUri, s.media.markdown)),
        ).toString('utf8');
        for (const c of commandLinks(md)) linked.add(c);
      }
      for (const e of s.completionEvents ?? [])
        if (e.startsWith('onCommand:')) linked.add(e.slice('onCommand:'.length));
    }
    assert.ok(linked.size >= 7, `linked commands: ${[...linked].join(', ')}`);
    const missing = [...linked].filter((c) => !all.has(c));
    assert.deepEqual(missing, [], 'commands the walkthrough names but nobody registered');
  });

  it("every step's media is in the extension", async () => {
    for (const s of walkthrough().steps) {
      const files = [
        s.media.markdown,
        ...(typeof s.media.image === 'string' ? [s.media.image] : Object.values(s.media.image ?? {})),
      ].filter((f): f is string => !!f);
      assert.ok(files.length > 0, `${s.id} has media`);
      for (const f of files) {
        const stat = await vscode.workspace.fs.stat(vscode.Uri.joinPath(ext().extensionUri, f));
        assert.ok(stat.size > 100, `${f} is there and not empty`);
      }
    }
  });

  it('the walkthrough opens, and its first step opens a copy of the sample in the curation editor', async () => {
    await vscode.commands.executeCommand('datasetCurator.showWalkthrough');
    await vscode.commands.executeCommand('datasetCurator.openSample');
    const tab = await waitFor('the sample in the curation editor', () =>
      vscode.window.tabGroups.all
        .flatMap((g) => g.tabs)
        .find(
          (t) =>
            t.input instanceof vscode.TabInputCustom &&
            t.input.viewType === 'datasetCurator.curationEditor' &&
            t.input.uri.path.endsWith('/samples/reviews.jsonl'),
        ),
    );
    const uri = (tab.input as vscode.TabInputCustom).uri;
    assert.ok(!uri.fsPath.startsWith(ext().extensionUri.fsPath), "a copy, not the extension's own file");
    const shipped = await vscode.workspace.fs.readFile(
      vscode.Uri.joinPath(ext().extensionUri, 'samples/reviews.jsonl'),
    );
    assert.ok(
      Buffer.from(await vscode.workspace.fs.readFile(uri)).equals(Buffer.from(shipped)),
      'the copy is the shipped sample',
    );
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
