import { openSync, statSync } from 'node:fs';
import { statsOfRange } from '../src/core/store/stats-core';
const path = process.argv[2]!;
const fd = openSync(path, 'r');
const size = statSync(path).size;
const f = { label: 'label', judge: 'judge', annotations: 'annotations', question: 'label' };
for (let r = 0; r < 3; r++) {
  let t = performance.now();
  const a = statsOfRange(fd, 0, size, 1, f, 100, undefined, undefined, undefined, false);
  const full = performance.now() - t;
  t = performance.now();
  const b = statsOfRange(fd, 0, size, 1, f, 100, undefined, undefined, undefined, true);
  const fast = performance.now() - t;
  console.log(`full ${full.toFixed(0)} ms, scan ${fast.toFixed(0)} ms, ratio ${(full / fast).toFixed(2)}, same ${JSON.stringify(a) === JSON.stringify(b)}`);
  if (r === 0 && JSON.stringify(a) !== JSON.stringify(b)) { console.log(JSON.stringify(a)); console.log(JSON.stringify(b)); }
}
