// The extension's manifest and pages as a new user meets them (issue 18): what activates it, its
// menus (one "Dataset Curator" submenu instead of 17 top-level entries), palette commands scoped to
// datasets, settings in categories with Markdown descriptions and the online-services tag, the
// Marketplace metadata, and a README written for users (the rest in CONTRIBUTING.md and docs/).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './helpers/store';

interface MenuItem {
  command?: string;
  submenu?: string;
  when?: string;
  group?: string;
}
interface Setting {
  type: string | string[];
  default: unknown;
  description?: string;
  markdownDescription?: string;
  tags?: string[];
  order?: number;
}
interface Manifest {
  activationEvents: string[];
  icon?: string;
  preview?: boolean;
  repository?: { url: string };
  bugs?: { url: string };
  categories: string[];
  keywords: string[];
  capabilities: { virtualWorkspaces?: { supported: boolean } };
  contributes: {
    languages: { id: string; extensions: string[] }[];
    commands: { command: string; title: string }[];
    submenus: { id: string; label: string }[];
    menus: Record<string, MenuItem[]>;
    viewsWelcome: { view: string; contents: string }[];
    configuration: { id: string; title: string; order: number; properties: Record<string, Setting> }[];
  };
}

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;
const c = pkg.contributes;
const commands = new Set(c.commands.map((x) => x.command));

test('a .jsonl opened as text activates the extension: onLanguage:jsonl, and the language id is declared', () => {
  assert.ok(pkg.activationEvents.includes('onLanguage:jsonl'), JSON.stringify(pkg.activationEvents));
  assert.deepEqual(c.languages.find((l) => l.id === 'jsonl')?.extensions, ['.jsonl']);
});

test('the Explorer and the editor title get one "Dataset Curator" submenu, not a list of entries', () => {
  const explorer = c.menus['explorer/context'] ?? [];
  assert.equal(explorer.length, 1, JSON.stringify(explorer));
  const sub = c.submenus.find((s) => s.id === explorer[0]?.submenu);
  assert.equal(sub?.label, 'Dataset Curator');
  assert.equal(explorer[0]?.when, 'resourceExtname =~ /^\\.(jsonl|ndjson)$/');
  assert.ok(!(explorer[0].group ?? '').startsWith('navigation'), 'not in the top group');
  const inside = c.menus[sub.id] ?? [];
  assert.ok(inside.length >= 15, `${inside.length} entries in the submenu`);
  const titleMenu = c.menus['editor/title'] ?? [];
  const overflow = titleMenu.filter((m) => !(m.group ?? '').startsWith('navigation'));
  assert.equal(overflow.length, 1, `one entry in the editor title's "…" menu: ${JSON.stringify(overflow)}`);
  assert.equal(c.submenus.find((s) => s.id === overflow[0]?.submenu)?.label, 'Dataset Curator');
  assert.ok(titleMenu.filter((m) => (m.group ?? '').startsWith('navigation')).length <= 4, 'a few icons only');
  // Every menu: known commands, and no two entries of a group at one position.
  for (const [menu, items] of Object.entries(c.menus)) {
    const seen = new Map<string, string>();
    for (const m of items) {
      if (m.command) assert.ok(commands.has(m.command), `${menu}: ${m.command} is a contributed command`);
      if (m.submenu)
        assert.ok(
          c.submenus.some((s) => s.id === m.submenu),
          `${menu}: submenu ${m.submenu}`,
        );
      const g = m.group ?? '';
      if (!g.includes('@') || menu === 'commandPalette') continue;
      const key = `${g}|${m.when ?? ''}`;
      assert.ok(!seen.has(key), `${menu}: ${m.command} and ${seen.get(key)} share ${g}`);
      seen.set(key, m.command ?? m.submenu ?? '');
    }
  }
});

test('palette commands that need a dataset are scoped with when-clauses', () => {
  const palette = new Map((c.menus.commandPalette ?? []).map((m) => [m.command, m.when ?? '']));
  const needDataset = [
    'filter',
    'label',
    'judge',
    'rationale',
    'consistency',
    'critique',
    'showAgreement',
    'findDuplicates',
    'sendToReview',
    'generateResponses',
    'generatePreferences',
    'export',
    'openAsText',
    'openInCurationEditor',
    'revealInDatasets',
    'generateInstructions',
    'generateDialogues',
  ];
  // Every command of the Explorer's "Dataset Curator" submenu works on a dataset: scoped too.
  for (const m of c.menus['datasetCurator.explorerContext'] ?? []) {
    const n = (m.command ?? '').replace(/^datasetCurator\./, '');
    if (n && !needDataset.includes(n)) needDataset.push(n);
  }
  for (const n of needDataset) {
    const when = palette.get(`datasetCurator.${n}`);
    assert.ok(when, `datasetCurator.${n} has a when-clause in the palette`);
    assert.match(when, /resourceExtname (==|=~)/, n);
  }
  for (const n of ['labelRecord', 'judgeRecord', 'rationaleRecord', 'consistencyRecord', 'critiqueRecord'])
    assert.equal(palette.get(`datasetCurator.${n}`), 'activeCustomEditorId == datasetCurator.curationEditor');
  // Global ones stay everywhere.
  for (const n of ['openSample', 'showWalkthrough', 'chooseEndpoint', 'setApiKey'])
    assert.equal(palette.has(`datasetCurator.${n}`), false, n);
});

test('settings: categories, a Markdown description each, llm.* tagged usesOnlineServices; keys and defaults as before', () => {
  assert.ok(Array.isArray(c.configuration) && c.configuration.length >= 4, 'several categories');
  const all: Record<string, Setting> = {};
  for (const cat of c.configuration) {
    assert.ok(cat.title && typeof cat.order === 'number', cat.id);
    for (const [k, v] of Object.entries(cat.properties)) {
      all[k] = v;
      assert.ok(v.markdownDescription && v.markdownDescription.length > 20, `${k} has a markdownDescription`);
      assert.equal(typeof v.order, 'number', `${k} has an order`);
      // The LLM settings shape what goes to an online service (a local folder, such as a cache's, does not).
      if (k.startsWith('datasetCurator.llm.') && !k.endsWith('Dir'))
        assert.deepEqual(v.tags, ['usesOnlineServices'], k);
    }
  }
  // The keys and defaults of the LLM settings users may have set, unchanged by the categories
  // (issue 18 adds llm.confirmRequestsAbove); other settings may come with other issues.
  const defaults: Record<string, unknown> = {
    'datasetCurator.labels': [],
    'datasetCurator.llm.preset': 'openai',
    'datasetCurator.llm.baseUrl': '',
    'datasetCurator.llm.model': '',
    'datasetCurator.llm.taskModels': {},
    'datasetCurator.llm.judgeModels': [],
    'datasetCurator.llm.temperature': 0,
    'datasetCurator.llm.maxTokens': 512,
    'datasetCurator.llm.concurrency': 8,
    'datasetCurator.llm.requestsPerMinute': 0,
    'datasetCurator.llm.tokensPerMinute': 0,
    'datasetCurator.llm.timeoutSeconds': 120,
    'datasetCurator.llm.pricePerMillionInputTokens': 0,
    'datasetCurator.llm.pricePerMillionOutputTokens': 0,
    'datasetCurator.llm.embeddingModel': '',
    'datasetCurator.llm.confirmCostAbove': 1,
    'datasetCurator.llm.confirmRequestsAbove': 1000,
    'datasetCurator.judges.disagreementThreshold': 0.3,
  };
  for (const [k, v] of Object.entries(defaults)) assert.deepEqual(all[k]?.default, v, k);
});

test('the welcome view offers the sample and Get Started; no virtual workspaces; the job command exists', () => {
  const welcome = c.viewsWelcome.map((w) => w.contents).join('\n');
  assert.match(welcome, /\[Open the Sample\]\(command:datasetCurator\.openSample\)/);
  assert.match(welcome, /\[Get Started\]\(command:datasetCurator\.showWalkthrough\)/);
  assert.equal(pkg.capabilities.virtualWorkspaces?.supported, false);
  assert.ok(commands.has('datasetCurator.showJob'));
});

test('Marketplace metadata: icon (a PNG of at least 128x128), repository, bugs, CHANGELOG, categories, keywords, preview', () => {
  assert.equal(pkg.preview, true);
  assert.ok(pkg.icon && existsSync(join(root, pkg.icon)));
  const png = readFileSync(join(root, pkg.icon));
  assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
  assert.ok(png.readUInt32BE(16) >= 128 && png.readUInt32BE(20) >= 128, 'at least 128x128');
  assert.match(pkg.repository?.url ?? '', /^https:\/\//);
  assert.match(pkg.bugs?.url ?? '', /^https:\/\//);
  assert.ok(existsSync(join(root, 'CHANGELOG.md')));
  assert.ok(readFileSync(join(root, '.vscodeignore'), 'utf8').includes('!CHANGELOG.md'));
  const marketplace = [
    'AI',
    'Azure',
    'Chat',
    'Data Science',
    'Debuggers',
    'Education',
    'Extension Packs',
    'Formatters',
    'Keymaps',
    'Language Packs',
    'Linters',
    'Machine Learning',
    'Notebooks',
    'Programming Languages',
    'SCM Providers',
    'Snippets',
    'Testing',
    'Themes',
    'Visualization',
    'Other',
  ];
  for (const cat of pkg.categories) assert.ok(marketplace.includes(cat), cat);
  assert.ok(pkg.keywords.length >= 5 && pkg.keywords.length <= 30);
});

test('the README is for users; contributors, design and benchmarks have their own pages', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  assert.ok(readme.length < 15_000, `README is ${readme.length} bytes`);
  for (const gone of [/^## Tests/m, /^## Layout/m, /^## Design/m, /target not met/, /bench:begin/, /\| met \|/])
    assert.doesNotMatch(readme, gone);
  for (const has of [
    /^## Install/m,
    /^## Quick start/m,
    /^## Keys/m,
    /^## Settings/m,
    /^## The command line/m,
    /^## Privacy/m,
    /media\/screenshots\//,
  ])
    assert.match(readme, has);
  // CI (.ci/run) runs the test command the README gives.
  const quick = readme.slice(readme.indexOf('## Quick start'));
  assert.match(quick, /npm run demo/);
  assert.match(quick, /npm test/);
  assert.match(readFileSync(join(root, '.ci/run'), 'utf8'), /\nnpm test\n/);
  const contributing = readFileSync(join(root, 'CONTRIBUTING.md'), 'utf8');
  for (const has of [/npm run demo/, /npm test/, /^## Tests/m, /^## Layout/m]) assert.match(contributing, has);
  assert.match(readFileSync(join(root, 'docs/design.md'), 'utf8'), /^# Design/);
  const bench = readFileSync(join(root, 'docs/benchmarks.md'), 'utf8');
  assert.match(bench, /<!-- bench:begin .*-->\n\| benchmark \| figure/);
  assert.match(readFileSync(join(root, 'bench/run.ts'), 'utf8'), /TABLE_FILE = 'docs\/benchmarks\.md'/);
});

test("the Datasets view's context menu and the Explorer's submenu offer the same work on a dataset", () => {
  const names = (menu: string) =>
    new Set((c.menus[menu] ?? []).flatMap((m) => (m.command ? [m.command.replace(/^datasetCurator\./, '')] : [])));
  const view = names('view/item/context');
  const explorer = names('datasetCurator.explorerContext');
  // Each reveals the file in the other place; a Parquet file's item converts it.
  const own = new Set(['revealInExplorer', 'revealInDatasets', 'convertParquetToJsonl']);
  assert.deepEqual(
    [...view].filter((n) => !own.has(n) && !explorer.has(n)),
    [],
    'in the Datasets view only',
  );
  assert.deepEqual(
    [...explorer].filter((n) => !own.has(n) && !view.has(n)),
    [],
    'in the Explorer only',
  );
  for (const n of ['confidence', 'confidenceBatch', 'labelCascade', 'cancelBatchJobs']) assert.ok(view.has(n), n);
});
