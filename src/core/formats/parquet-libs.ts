// The Parquet libraries in one module: bundled on their own (dist/parquet.js) and loaded by
// parquet.ts on first use, so opening a JSONL file never parses them.
export * as hyparquet from 'hyparquet';
export { compressors } from 'hyparquet-compressors';
export * as writer from 'hyparquet-writer';
