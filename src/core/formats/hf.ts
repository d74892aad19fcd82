// The Hugging Face dataset layout: `data/<split>-00000-of-00001.parquet` and a dataset card
// (README.md) whose YAML header declares the features, the splits and the data files, as
// `datasets.load_dataset(DIR)` and the Hub's viewer read them (huggingface/hub-docs,
// docs/hub/datasets-cards.md and datasets-manual-configuration.md; the features' YAML is
// `datasets.Features._to_yaml_list`: `dtype` for a value, `list` for a list of structs, `sequence`
// for a list of anything else, `struct` for a struct).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { readParquetRows, type Kind } from './parquet';

/** The file of a split in the layout: `data/train-00000-of-00001.parquet`. */
export function hubDataFile(split: string): string {
  return join('data', `${split}-00000-of-00001.parquet`);
}

function dtype(k: Kind): string {
  switch (k.t) {
    case 'bool':
      return 'bool';
    case 'int':
      return 'int64';
    case 'float':
      return 'float64';
    default: // string, JSON text, a column of nulls
      return 'string';
  }
}

const q = (s: string): string => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(s) ? s : JSON.stringify(s));

/** The YAML lines of one feature (`- name: x` and its type), indented by `pad`. */
function feature(name: string, k: Kind, pad: string): string[] {
  return [`${pad}- name: ${q(name)}`, ...featureType(k, `${pad}  `)];
}

function featureType(k: Kind, pad: string): string[] {
  if (k.t === 'list') {
    if (k.of.t === 'struct') return [`${pad}list:`, ...[...k.of.fields].flatMap(([n, fk]) => feature(n, fk, pad))];
    const inner = featureType(k.of, `${pad}  `);
    // `sequence: string` for a value; a nested type goes on the lines below
    if (inner.length === 1 && inner[0]!.trim().startsWith('dtype:'))
      return [`${pad}sequence: ${inner[0]!.trim().slice('dtype: '.length)}`];
    return [`${pad}sequence:`, ...inner];
  }
  if (k.t === 'struct') return [`${pad}struct:`, ...[...k.fields].flatMap(([n, fk]) => feature(n, fk, pad))];
  return [`${pad}dtype: ${dtype(k)}`];
}

export interface CardInput {
  columns: Map<string, Kind>;
  split: string;
  rows: number;
  /** Bytes of the Parquet file. */
  bytes: number;
  /** What the rows are (the export format), said in the card's text. */
  format: string;
  source: string;
}

/** The YAML header of the dataset card. */
export function cardHeader(c: CardInput): string {
  const lines = ['dataset_info:', '  features:'];
  for (const [name, k] of c.columns) lines.push(...feature(name, k, '  '));
  lines.push(
    '  splits:',
    `  - name: ${q(c.split)}`,
    `    num_bytes: ${c.bytes}`,
    `    num_examples: ${c.rows}`,
    `  download_size: ${c.bytes}`,
    `  dataset_size: ${c.bytes}`,
    'configs:',
    '- config_name: default',
    '  data_files:',
    `  - split: ${q(c.split)}`,
    `    path: data/${c.split}-*`,
  );
  return `---\n${lines.join('\n')}\n---\n`;
}

/**
 * The dataset card: the header, and either the body of an existing card (kept as the user wrote
 * it) or a short one saying how to load the data.
 */
export function datasetCard(dir: string, c: CardInput): string {
  const path = join(dir, 'README.md');
  let body =
    `\n# ${c.source}\n\n${c.rows} ${c.format} rows exported by Dataset Curator from \`${c.source}\`.\n\n` +
    '```python\nfrom datasets import load_dataset\n\nds = load_dataset("path/to/this/folder")\n```\n';
  if (existsSync(path)) {
    const old = readFileSync(path, 'utf8');
    const m = /^---\r?\n[\s\S]*?\r?\n---\r?\n?/.exec(old);
    body = m ? old.slice(m[0].length) : old;
  }
  return cardHeader(c) + body;
}

/**
 * The Parquet files of one split in a Hugging Face dataset folder (a `huggingface-cli download`,
 * an export of ours): `data/train-00000-of-00002.parquet`, `default/train/0000.parquet`,
 * `train.parquet`; in name order (the shards' order).
 */
export function hubSplitFiles(dir: string, split: string): { files: string[]; splits: string[] } {
  const all: string[] = [];
  const walk = (d: string, depth: number) => {
    if (depth > 4) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue; // .git, .cache, .huggingface
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else if (e.name.toLowerCase().endsWith('.parquet')) all.push(relative(dir, p).split(sep).join('/'));
    }
  };
  walk(dir, 0);
  const splitOf = (rel: string): string | undefined => {
    const parts = rel.split('/');
    const name = parts[parts.length - 1]!.replace(/\.parquet$/i, '');
    // data/train-00000-of-00001, train.parquet, default/train/0000
    const m = /^([A-Za-z0-9_]+?)(-\d{5}-of-\d{5})?$/.exec(name);
    if (m && (m[2] || parts.length <= 2)) return m[1];
    return parts.length >= 2 ? parts[parts.length - 2] : undefined;
  };
  const splits = [...new Set(all.map(splitOf).filter((x): x is string => !!x))].sort();
  return {
    files: all
      .filter((f) => splitOf(f) === split)
      .sort()
      .map((f) => join(dir, f)),
    splits,
  };
}

/** The rows of one split of a Hugging Face dataset folder, file after file, a row group at a time. */
export async function* readHubSplit(
  dir: string,
  split: string,
  signal?: AbortSignal,
): AsyncGenerator<Record<string, unknown>> {
  const { files, splits } = hubSplitFiles(dir, split);
  if (!files.length)
    throw new Error(
      `${dir} has no Parquet files of the split "${split}"${splits.length ? ` (it has: ${splits.join(', ')})` : ' (no Parquet files at all)'}`,
    );
  for (const f of files) yield* readParquetRows(f, signal ? { signal } : {});
}
