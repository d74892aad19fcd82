// Statistics are exact: the worker pool, the in-thread path and a naive full parse through the
// store's line views agree, with edits and with every kind of invalid line.
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { JsonlDataset, computeStats, statsOperation, type DatasetStats } from '../../src/core/store';
import { FieldMap } from '../../src/core/schema/annotation';
import { quietContext } from '../../src/core/operation';
import { fileWith, root } from './helpers/store';

function naive(ds: JsonlDataset): Pick<DatasetStats, 'lines' | 'records' | 'invalid' | 'labels' | 'scored'> & {
  sum: number;
  invalidLines: { line: number; reason: string }[];
} {
  const labels: Record<string, number> = {};
  let records = 0;
  let scored = 0;
  let sum = 0;
  const invalidLines: { line: number; reason: string }[] = [];
  for (let i = 0; i < ds.lineCount; i++) {
    const l = ds.line(i);
    if (!l.value) {
      invalidLines.push({ line: i + 1, reason: l.invalid!.reason });
      continue;
    }
    records++;
    const lab = l.value.label;
    if (typeof lab === 'string' && lab !== '') labels[lab] = (labels[lab] ?? 0) + 1;
    const j = l.value.judge as { score?: unknown } | undefined;
    if (j && typeof j.score === 'number') {
      scored++;
      sum += j.score;
    }
  }
  return { lines: ds.lineCount, records, invalid: invalidLines.length, labels, scored, sum, invalidLines };
}

function mixedFile(n: number): string {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    switch (i % 17) {
      case 3:
        parts.push('not json\n');
        break;
      case 5:
        parts.push('\n');
        break;
      case 7:
        parts.push('{"label":"x"}\r\n');
        break;
      case 11:
        parts.push('{"a":1}\r{"lone":"cr"}\n');
        break;
      case 13:
        parts.push('[1,2,3]\n');
        break;
      default:
        parts.push(
          `{"i":${i},"label":"${['pos', 'neg', 'neu'][i % 3]}","judge":{"score":${i % 10},"scale":[0,9]},"annotations":{"review":{"status":"${i % 4 ? 'reviewed' : 'pending'}"}}}\n`,
        );
    }
  }
  return parts.join('');
}

describe('computeStats', () => {
  test('the worker pool, this thread and a naive parse agree (edits included)', async () => {
    const path = fileWith(
      Buffer.concat([
        Buffer.from(mixedFile(30000)),
        Buffer.from([0xff, 0x7b, 0x7d, 0x0a]),
        Buffer.from('{"label":"last"}'),
      ]),
    );
    const ds = await JsonlDataset.open(path);
    await ds.ready;
    ds.setField(0, ['label'], 'edited');
    ds.insertLine(10, { label: 'inserted', judge: { score: 4 } });
    ds.deleteLine(20);
    ds.replaceLine(100, { raw: 'broken {' });
    const diagnostics: { workersUsed?: number } = {};
    const pooled = await computeStats(ds, FieldMap.parse({}), { workers: 2, diagnostics });
    assert.equal(diagnostics.workersUsed, 2, 'the worker pool counted (no fallback)');
    const inThread = await computeStats(ds, FieldMap.parse({}), { workers: 0, diagnostics });
    assert.equal(diagnostics.workersUsed, 0);
    assert.deepEqual(pooled, inThread);
    const n = naive(ds);
    assert.equal(pooled.lines, n.lines);
    assert.equal(pooled.records, n.records);
    assert.equal(pooled.invalid, n.invalid);
    assert.deepEqual(pooled.invalidLines, n.invalidLines.slice(0, 100));
    assert.deepEqual({ ...pooled.labels }, n.labels);
    assert.equal(pooled.scored, n.scored);
    assert.ok(Math.abs((pooled.meanScore ?? 0) - n.sum / n.scored) < 1e-9);
    assert.equal(pooled.labels.edited, 1);
    assert.ok(pooled.invalidLines.some((l) => l.line === 101 && /invalid JSON/.test(l.reason)));
    assert.ok(pooled.invalidLines.some((l) => /carriage return/.test(l.reason)));
    assert.equal(
      pooled.scoreHistogram.reduce((a, b) => a + b.count, 0),
      pooled.scored,
    );
    ds.close();
  });

  test('invalid lines are listed up to maxListed, all counted; the last line without newline counts', async () => {
    const path = fileWith(
      Buffer.concat([
        Buffer.from('x\n'.repeat(250)),
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from('{"a":1}\n{"label":"z"}'),
      ]),
    );
    const ds = await JsonlDataset.open(path);
    const s = await computeStats(ds, FieldMap.parse({}), { maxListed: 10, workers: 1 });
    assert.equal(s.invalid, 251);
    assert.equal(s.invalidLines.length, 10);
    assert.deepEqual(s.invalidLines[0], {
      line: 1,
      reason: 'invalid JSON: Unexpected token \'x\', "x" is not valid JSON',
    });
    assert.equal(s.records, 1);
    assert.deepEqual({ ...s.labels }, { z: 1 });
    ds.close();
  });

  test('the sample dataset: labels, shares, histogram; configurable field names', async () => {
    const sample = `${root}/samples/reviews.jsonl`;
    const ds = await JsonlDataset.open(sample);
    const s = await computeStats(ds);
    const lines = readFileSync(sample, 'utf8').trimEnd().split('\n');
    assert.equal(s.records, lines.length);
    assert.equal(s.annotated, lines.filter((l) => 'label' in JSON.parse(l)).length);
    assert.ok(s.reviewedShare > 0 && s.reviewedShare <= 1);
    const renamed = await computeStats(ds, FieldMap.parse({ label: 'id' }));
    assert.equal(Object.keys(renamed.labels).length, lines.length, 'every id is its own "label"');
    ds.close();
  });

  test('a label named __proto__ is counted like any other', async () => {
    const ds = await JsonlDataset.open(fileWith('{"label":"__proto__"}\n{"label":"constructor"}\n'));
    const s = await computeStats(ds);
    assert.equal(s.labels['__proto__'], 1);
    assert.equal(s.labels.constructor, 1);
    assert.equal(JSON.parse(JSON.stringify(s)).labels.__proto__, 1);
    ds.close();
  });

  test('the stats operation reports progress and can be cancelled', async () => {
    const path = fileWith(mixedFile(5000));
    const seen: number[] = [];
    const r = await statsOperation.run({ file: path }, { ...quietContext(), progress: (p) => seen.push(p.done) });
    assert.equal(r.lines, 5000);
    assert.ok(seen.length > 0);
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(statsOperation.run({ file: path }, quietContext(ac.signal)), { name: 'AbortError' });
  });
});
