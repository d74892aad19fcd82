// The one generator of realistic records every benchmark uses: the layout of samples/reviews.jsonl
// (a review text, label, rationale, judge with criteria and reasons, annotations with a model
// suggestion and its provenance, sometimes a human decision, a review status, sometimes an origin),
// with varied text (sentences built from a 6,000-word vocabulary with a Zipf-like distribution,
// some non-ASCII words, quotes and escapes), every record unique (its id and a serial in the text).
// About 1.1 KB a record, as the sample's records are. Deterministic for a given seed and size.
//
//   recordsFile({ bytes }) -> a path under the OS temp folder, generated once per size and version
//   makeRecord(i, rnd) -> one record object (dedup plants near-copies of its texts)
//
// Sizes: benches default to a small file and take --full for 200 MB and 1 GB (the issue's sizes).
import { closeSync, existsSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Bump when the records change: cached files are named by it. */
export const RECORDS_VERSION = 1;

export const MB = 1024 * 1024;
/** The issue's sizes: about 200 MB (200k records) and 1 GB (1M records). */
export const FULL_SIZES = [200 * MB, 1100 * MB];

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rndWords = mulberry32(7);
const SYLLABLES = [
  'ba',
  'te',
  'ri',
  'so',
  'lu',
  'ne',
  'ka',
  'mo',
  'di',
  'pe',
  'ta',
  'ver',
  'con',
  'ing',
  'er',
  'ly',
  'tion',
  'al',
  'st',
  'ch',
];
const ACCENTED = [
  'café',
  'naïve',
  'déjà',
  'über',
  'señor',
  'façade',
  'smörgåsbord',
  'jalapeño',
  '東京',
  'Ωmega',
  '😀',
  '👍',
  'niño',
];
const COMMON =
  'the a and to it is was for my of in this but not with very on after phone battery screen support price delivery quality sound camera charger case app update refund order box works broke great poor fast slow love hate again never always'.split(
    ' ',
  );
/** The vocabulary: common words first (they are drawn most), then made-up ones, some accented. */
const VOCAB: string[] = [...COMMON];
while (VOCAB.length < 6000) {
  const n = 1 + Math.floor(rndWords() * 3);
  let w = '';
  for (let k = 0; k < n; k++) w += SYLLABLES[Math.floor(rndWords() * SYLLABLES.length)]!;
  VOCAB.push(VOCAB.length % 97 === 0 ? ACCENTED[VOCAB.length % ACCENTED.length]! : w);
}

/** A Zipf-like draw: low ranks far more often. */
function word(rnd: () => number): string {
  const u = rnd();
  return VOCAB[Math.floor(VOCAB.length * u * u * u)]!;
}

const LABELS = ['positive', 'negative', 'neutral'];
const MODELS = ['gpt-4o-mini-2024-07-18', 'llama-3.1-8b-instruct', 'qwen2.5-7b-instruct'];
const USERS = ['maria', 'kenji', 'ana', 'olu'];

/** A review text of about `words` words: sentences, some quoted, some with a line break or a tab (escaped in JSON). */
export function makeText(rnd: () => number, words: number, serial: number): string {
  const parts: string[] = [];
  let n = 0;
  while (n < words) {
    const len = 5 + Math.floor(rnd() * 14);
    const ws: string[] = [];
    for (let k = 0; k < len; k++) ws.push(word(rnd));
    let s = ws.join(' ');
    s = s[0]!.toUpperCase() + s.slice(1);
    const r = rnd();
    if (r < 0.06) s = `"${s}"`;
    else if (r < 0.08) s = `${s}\n`;
    else if (r < 0.09) s = `${s}\t`;
    parts.push(`${s}${rnd() < 0.15 ? '!' : '.'}`);
    n += len;
  }
  return `${parts.join(' ')} (#${serial})`;
}

/** One annotated record in the sample's layout; `text` given, or a fresh one. */
export function makeRecord(i: number, rnd: () => number, text?: string): Record<string, unknown> {
  const label = LABELS[Math.floor(rnd() * 3)]!;
  const model = MODELS[i % MODELS.length]!;
  const score = 1 + Math.floor(rnd() * 10);
  const agree = rnd() < 0.8;
  const suggested = agree ? label : LABELS[(LABELS.indexOf(label) + 1) % 3]!;
  const minute = i % 60;
  const rec: Record<string, unknown> = {
    id: `rev-${String(i).padStart(7, '0')}`,
    text: text ?? makeText(rnd, 20 + Math.floor(rnd() * rnd() * 150), i),
    label,
    rationale: `The reviewer ${label === 'negative' ? 'reports a defect or a bad experience' : label === 'positive' ? 'is satisfied' : 'is mixed'}. Key phrase: "${word(rnd)} ${word(rnd)}".`,
    judge: {
      score,
      scale: [1, 10],
      reasons:
        score > 6
          ? `The label "${label}" matches the review's overall tone.`
          : `The label "${label}" is doubtful: the rationale overlooks the qualifying remarks.`,
      criteria: { correctness: score, clarity: Math.min(10, score + 1), grounding: Math.max(1, score - 1) },
      model: 'gpt-4.1-2025-04-14',
    },
    annotations: {
      suggestions: {
        label: [
          {
            value: suggested,
            score: Math.round(rnd() * 100) / 100,
            agent: model,
            type: 'model',
            provenance: {
              model,
              prompt_hash: 'sha256:31c09759f9a9aa07',
              time: `2026-11-20T09:${String(minute).padStart(2, '0')}:13.000Z`,
              usage: { input_tokens: 150 + Math.floor(rnd() * 300), output_tokens: 42 },
            },
          },
        ],
      },
      ...(rnd() < 0.3
        ? {
            human: {
              label: {
                value: label,
                user: USERS[i % USERS.length],
                status: 'submitted',
                time: `2026-11-21T14:${String(minute).padStart(2, '0')}:02.000Z`,
              },
            },
          }
        : {}),
      review: { status: rnd() < 0.6 ? 'reviewed' : 'pending' },
      ...(i % 10 === 0 ? { origin: { type: 'model', model } } : {}),
    },
  };
  return rec;
}

/** A near copy of a text: `edits` words replaced (each changes up to 5 of its 5-word shingles). */
export function nearCopy(text: string, rnd: () => number, edits: number): string {
  const words = text.split(' ');
  for (let e = 0; e < edits; e++) words[Math.floor(rnd() * words.length)] = word(rnd);
  return words.join(' ');
}

/**
 * Writes records until `bytes` (a whole number of lines); one line in `invalidEvery` is a
 * truncated record (0: none); one record in `nearDupEvery` (0: none) has the text of an earlier
 * record with one or two words replaced (a planted near duplicate; its own id, label, judge).
 */
export function writeRecords(
  path: string,
  bytes: number,
  seed = 1,
  invalidEvery = 0,
  nearDupEvery = 0,
): { records: number; lines: number; planted: number } {
  const rnd = mulberry32(seed);
  const recent: string[] = [];
  let planted = 0;
  const tmp = `${path}.partial`;
  const fd = openSync(tmp, 'w');
  let written = 0;
  let i = 0;
  let lines = 0;
  let batch: string[] = [];
  let batchBytes = 0;
  try {
    while (written < bytes) {
      let line: string;
      if (invalidEvery && i % invalidEvery === invalidEvery - 1) line = `{"id":"rev-${i}","text":"truncated record`;
      else if (nearDupEvery && i % nearDupEvery === nearDupEvery - 1 && recent.length > 0) {
        line = JSON.stringify(
          makeRecord(i, rnd, nearCopy(recent[Math.floor(rnd() * recent.length)]!, rnd, 1 + Math.floor(rnd() * 2))),
        );
        planted++;
      } else {
        const rec = makeRecord(i, rnd);
        // Near copies come from the last 100,000 records: far apart in the file, as in real data.
        if (nearDupEvery) {
          if (recent.length < 100_000) recent.push(rec.text as string);
          else recent[Math.floor(rnd() * recent.length)] = rec.text as string;
        }
        line = JSON.stringify(rec);
      }
      batch.push(line);
      batchBytes += line.length + 1;
      i++;
      lines++;
      if (batchBytes > 8 * MB || written + batchBytes * 1.02 >= bytes) {
        const b = Buffer.from(`${batch.join('\n')}\n`);
        writeSync(fd, b);
        written += b.length;
        batch = [];
        batchBytes = 0;
      }
    }
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  return { records: i, lines, planted };
}

/** The cached file of about `bytes` of records (generated on first use). */
export function recordsFile(opts: {
  bytes: number;
  seed?: number;
  invalidEvery?: number;
  nearDupEvery?: number;
  dir?: string;
}): string {
  const seed = opts.seed ?? 1;
  const inv = opts.invalidEvery ?? 0;
  const dup = opts.nearDupEvery ?? 0;
  const path = join(
    opts.dir ?? tmpdir(),
    `dc-records-v${RECORDS_VERSION}-s${seed}${inv ? `-inv${inv}` : ''}${dup ? `-dup${dup}` : ''}-${Math.round(opts.bytes / MB)}mb.jsonl`,
  );
  if (!existsSync(path)) {
    process.stderr.write(`generating ${path} (${Math.round(opts.bytes / MB)} MB of records)...\n`);
    writeRecords(path, opts.bytes, seed, inv, dup);
  }
  return path;
}

export function fileSize(path: string): number {
  return statSync(path).size;
}

// `node --import tsx bench/records.ts 64`: generate (or find) the 64 MB file and print its path.
if (require.main === module && /records\.ts$/.test(process.argv[1] ?? '')) {
  const mb = Number(process.argv[2] ?? 8);
  const p = recordsFile({ bytes: mb * MB });
  console.log(p, fileSize(p));
}
