// The rules of the house that code can check: the core and the CLI never import `vscode`, the core
// imports nothing from the faces, and the webview never writes HTML from strings.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(__dirname, '..', '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ts|mts|js)$/.test(name)) out.push(p);
    }
  };
  walk(join(root, dir));
  return out;
}

test('src/core and src/cli import nothing from vscode', () => {
  const offenders = [...sources('src/core'), ...sources('src/cli')].filter((f) =>
    /from\s+['"]vscode['"]|require\(\s*['"]vscode['"]\s*\)|import\(\s*['"]vscode['"]\s*\)/.test(
      readFileSync(f, 'utf8'),
    ),
  );
  assert.deepEqual(
    offenders.map((f) => relative(root, f)),
    [],
  );
});

test('src/core imports nothing from the faces: src/shared, src/extension, src/cli or webview', () => {
  const offenders = sources('src/core').filter(
    (f) =>
      /(?:from\s+|import\(\s*|require\(\s*)['"](?:\.\.\/)+(?:shared|extension|cli|webview)\//.test(
        readFileSync(f, 'utf8'),
      ) || /['"](?:\.\.\/)+\.\.\/webview\//.test(readFileSync(f, 'utf8')),
  );
  assert.deepEqual(
    offenders.map((f) => relative(root, f)),
    [],
  );
});

test("the core's messages name no CLI flag (the faces translate options to flags or settings)", () => {
  const offenders: string[] = [];
  for (const f of sources('src/core')) {
    readFileSync(f, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (/^\s*(\/\/|\*|\/\*\*)/.test(line)) return;
        // Another program's own arguments (git's flags) are not messages.
        if (/\b(git|execFile|execFileSync|spawn|spawnSync)\(\[/.test(line)) return;
        if (/['"`][^'"`]*(?<![\w-])--[a-z][\w-]*/.test(line)) offenders.push(`${relative(root, f)}:${i + 1}`);
      });
  }
  assert.deepEqual(offenders, []);
});

test('the faces run operations through the registry, without casting them', () => {
  const offenders = [...sources('src/cli'), ...sources('src/extension')].filter((f) =>
    /as unknown as Operation|\.estimate!\(/.test(readFileSync(f, 'utf8')),
  );
  assert.deepEqual(
    offenders.map((f) => relative(root, f)),
    [],
  );
});

test('the webview never turns strings into HTML', () => {
  const offenders = sources('webview').filter((f) =>
    /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write\(/.test(readFileSync(f, 'utf8')),
  );
  assert.deepEqual(
    offenders.map((f) => relative(root, f)),
    [],
  );
});
