// The hostile-input corpus (test/support/hostile-corpus.ts) in the curation editor, inside VS
// Code: each case opens through the custom editor provider; the record payloads the webview gets
// say why each line is invalid (and pass the protocol's schema and JSON serialization, which is
// what postMessage does); the stats and the search work; an unrelated edit (the anchor record),
// saved with VS Code's Save, leaves every other byte of the case as it was.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { RecordPayload } from '../../src/shared/protocol';
import { ANCHOR_EDITED, hostileCorpus, withAnchorEdited } from '../support/hostile-corpus';
import { activateExtension, waitFor, workspaceFolder } from './helpers';

const slug = (name: string) => name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();

describe('Hostile input in the curation editor', () => {
  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  for (const c of hostileCorpus()) {
    it(`${c.name}: opens, says why each line is invalid, and an unrelated edit saves byte for byte`, async function () {
      this.timeout(180_000);
      const api = await activateExtension();
      const uri = vscode.Uri.joinPath(workspaceFolder(), 'scratch', 'hostile', `${slug(c.name)}.jsonl`);
      await vscode.workspace.fs.writeFile(uri, c.bytes);
      await vscode.commands.executeCommand('vscode.openWith', uri, 'datasetCurator.curationEditor');
      const doc = await waitFor('the document', () => api.editors.documentFor(uri), 60_000);
      await doc.store.ready;
      assert.equal(doc.session.info().lineCount, c.lines.length);

      // Every line of small cases; a sample of the long ones.
      const n = c.lines.length;
      const which =
        n <= 2000
          ? [...Array(n).keys()]
          : [
              ...new Set([
                ...Array(200).keys(),
                ...Array.from({ length: 200 }, (_, k) => Math.floor((k * n) / 200)),
                n - 1,
              ]),
            ];
      for (const i of which) {
        const exp = c.lines[i]!;
        const payload = doc.session.record(i);
        // What the webview receives: JSON-serializable and valid against the protocol.
        const wire = JSON.parse(JSON.stringify(payload)) as unknown;
        assert.doesNotThrow(() => RecordPayload.parse(wire), `line ${i + 1}: the payload passes the protocol schema`);
        if (exp.invalid) {
          assert.match(payload.invalid?.reason ?? '(valid)', exp.invalid, `${c.name}: line ${i + 1}`);
          assert.equal(payload.value, undefined, `line ${i + 1}: no value for an invalid line`);
          assert.equal(typeof payload.raw, 'string');
        } else {
          assert.equal(payload.invalid, undefined, `${c.name}: line ${i + 1}: ${payload.invalid?.reason}`);
          assert.ok(payload.value);
          if (exp.lossy) assert.match(payload.lossy?.reason ?? '(not lossy)', exp.lossy);
        }
      }
      // The stats view and the search over the whole file.
      const stats = await doc.stats();
      assert.equal(stats.invalid, c.lines.filter((l) => l.invalid).length);
      const invalid = await doc.session.search({
        query: { invalid: true },
        from: 0,
        direction: 'forward',
        limit: 100_000,
      });
      assert.equal(invalid.total, stats.invalid);

      if (c.anchor === undefined) {
        assert.equal(doc.session.info().lineCount, 0);
        return;
      }
      // An unrelated edit, saved with VS Code's Save: the case's bytes are intact.
      doc.edit({ op: 'setField', index: c.anchor, path: ['anchor'], value: 1 });
      assert.equal(doc.session.record(c.anchor).raw, ANCHOR_EDITED);
      await vscode.commands.executeCommand('workbench.action.files.save');
      await waitFor('the save', () => !doc.isDirty || undefined, 60_000);
      const after = Buffer.from(await vscode.workspace.fs.readFile(uri));
      assert.ok(after.equals(withAnchorEdited(c)), `${c.name}: only the anchor changed on disk`);
      await vscode.workspace.fs.delete(uri);
    });
  }
});
