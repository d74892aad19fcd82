// One place for each default: package.json's contributes.configuration. The extension reads every
// setting through one typed table (src/extension/settings-schema.ts) that must list the same keys
// and accept each default; the engine's own defaults (the CLI's) must be the same numbers.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { SETTINGS } from '../../src/extension/settings-schema';
import { CommonOptions } from '../../src/core/llm/tasks';
import { DEFAULT_DISAGREEMENT } from '../../src/core/filter/judge-agreement';
import pkg from '../../package.json';

type Prop = { default?: unknown };
const sections = pkg.contributes.configuration as unknown as { properties: Record<string, Prop> }[];
const props: Record<string, Prop> = Object.assign({}, ...sections.map((s) => s.properties));
const declared = Object.keys(props).map((k) => k.replace(/^datasetCurator\./, ''));

test('the typed settings list exactly the settings package.json declares, and each default fits its type', () => {
  assert.deepEqual(Object.keys(SETTINGS).sort(), declared.sort());
  for (const [key, schema] of Object.entries(SETTINGS)) {
    const d = props[`datasetCurator.${key}`]?.default;
    assert.ok(schema.safeParse(d).success, `datasetCurator.${key}: default ${JSON.stringify(d)}`);
  }
});

test("the engine's defaults (the CLI's) are the settings' defaults", () => {
  const engine = CommonOptions.parse({ input: 'x.jsonl', baseURL: 'http://127.0.0.1:1/v1', model: 'm' });
  const pairs: [string, unknown][] = [
    ['llm.temperature', engine.temperature],
    ['llm.maxTokens', engine.maxTokens],
    ['llm.concurrency', engine.concurrency],
    ['llm.requestsPerMinute', engine.requestsPerMinute],
    ['llm.tokensPerMinute', engine.tokensPerMinute],
    ['llm.timeoutSeconds', engine.timeoutSeconds],
    ['llm.pricePerMillionInputTokens', engine.pricePerMillionInputTokens],
    ['llm.pricePerMillionOutputTokens', engine.pricePerMillionOutputTokens],
    ['judges.disagreementThreshold', DEFAULT_DISAGREEMENT],
  ];
  for (const [key, value] of pairs) assert.equal(props[`datasetCurator.${key}`]?.default, value, key);
});
