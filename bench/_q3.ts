import { readFileSync } from 'node:fs';
const buf = readFileSync(process.argv[2]!);
const STR = new Uint8Array(256); for (let c = 0; c < 32; c++) STR[c] = 3; STR[34] = 1; STR[92] = 2;
for (let r = 0; r < 5; r++) {
  let t = performance.now();
  let n = 0;
  for (let i = 0; i < buf.length; i++) if (STR[buf[i]!] !== 0) n++;
  const a = performance.now() - t;
  t = performance.now();
  let m = 0;
  for (let c = 0; c < 32; c++) if (c !== 10) m += buf.indexOf(c) === -1 ? 0 : 1;
  const b = performance.now() - t;
  t = performance.now();
  let q = 0;
  for (let i = buf.indexOf(34); i !== -1; i = buf.indexOf(34, i + 1)) q++;
  const c = performance.now() - t;
  console.log(`table loop ${(buf.length / 1e3 / a).toFixed(0)} MB/s, 31 memchr ${(buf.length / 1e3 / b).toFixed(0)} MB/s, indexOf quotes ${(buf.length / 1e3 / c).toFixed(0)} MB/s (${q} quotes, ${(q / 8082).toFixed(0)}/rec)`, n, m);
}
