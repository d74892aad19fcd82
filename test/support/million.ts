// A dataset of a million (or any number of) records whose lines all have the same length, so
// that a test can read line n straight from the file at (n - 1) * lineBytes and compare it with
// what the list shows. Written in chunks (never the whole file in memory).
import { closeSync, openSync, readSync, writeSync } from 'node:fs';

const WORDS = ['apple', 'lemon', 'mango', 'peach', 'grape', 'melon', 'olive', 'guava'];
export const LABELS = ['alpha', 'bravo', 'delta'];
/** Lines whose number is 7 modulo 1000 carry this word. */
export const RARE_WORD = 'zebra';

export function millionLine(n: number): string {
  const id = String(n).padStart(7, '0');
  const w = (k: number) => WORDS[(n * 31 + k * 7) % WORDS.length]!;
  const words = n % 1000 === 7 ? `${w(1)} ${RARE_WORD} ${w(3)}` : `${w(1)} ${w(2)} ${w(3)}`;
  return JSON.stringify({ id: `r${id}`, text: `row ${id} ${words}`, label: LABELS[n % 3]!, judge: { score: n % 10 } });
}

/** Bytes per line, terminator included (the same for every line up to 9,999,999). */
export const lineBytes = Buffer.byteLength(millionLine(1)) + 1;

export function writeMillion(path: string, count = 1_000_000): void {
  const fd = openSync(path, 'w');
  try {
    for (let start = 1; start <= count; start += 10_000) {
      const lines: string[] = [];
      for (let n = start; n < Math.min(count + 1, start + 10_000); n++) lines.push(millionLine(n));
      writeSync(fd, `${lines.join('\n')}\n`);
    }
  } finally {
    closeSync(fd);
  }
}

/** Line n (1-based) as it is in the file. */
export function readLine(path: string, n: number): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(lineBytes);
    readSync(fd, buf, 0, lineBytes, (n - 1) * lineBytes);
    return buf.toString('utf8', 0, lineBytes - 1);
  } finally {
    closeSync(fd);
  }
}
