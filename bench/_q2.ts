import { readFileSync } from 'node:fs';
import { StatsScanner } from '../src/core/store/stats-scan';
const buf = readFileSync(process.argv[2]!);
const sc = new StatsScanner({ label: 'label', judge: 'judge', annotations: 'annotations', question: 'label' });
const lines: [number, number][] = [];
for (let s = 0; s < buf.length; ) { const e = buf.indexOf(10, s); lines.push([s, e]); s = e + 1; }
let fails = 0;
for (const [s, e] of lines) if (!sc.scan(buf, s, e)) fails++;
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
let A = Infinity, B = Infinity;
for (let r = 0; r < 12; r++) {
  let t = cpu();
  for (const [s, e] of lines) sc.scan(buf, s, e);
  A = Math.min(A, cpu() - t);
  t = cpu();
  let x = 0;
  for (const [s, e] of lines) { const o = JSON.parse(buf.toString('utf8', s, e)); if (o.label) x++; }
  B = Math.min(B, cpu() - t);
}
console.log(`fails ${fails}; CPU ms, best of 12: scan ${A.toFixed(1)} (${(buf.length / 1e3 / A).toFixed(0)} MB/s), decode+parse ${B.toFixed(1)} (${(buf.length / 1e3 / B).toFixed(0)} MB/s), ratio ${(B / A).toFixed(2)}`);
