// Writes batch input files: requests in the OpenAI batch format, split so that no file holds more
// than `maxRequests` requests or `maxBytes` bytes (the Batch API's 50,000 and 200 MB). Each file is
// written to a temporary name, fsynced and renamed: a file under its final name is whole. Lines are
// written through one buffer (write-buffer.ts) and hashed as they are written; the requests are
// never held together in memory.
import { createHash, type Hash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BATCH_LIMITS, CHAT_ENDPOINT, inputLine, type BatchRequest } from './format';
import { WriteBuffer } from './write-buffer';

export interface InputFile {
  /** File name inside the folder (also the name it is uploaded under). */
  name: string;
  path: string;
  requests: number;
  bytes: number;
  sha256: string;
}

export interface SplitLimits {
  maxRequests: number;
  maxBytes: number;
}

export class InputFileWriter {
  readonly files: InputFile[] = [];
  private fd = -1;
  private tmp = '';
  private name = '';
  private hash: Hash | undefined;
  private count = 0;
  private bytes = 0;
  private out: WriteBuffer | undefined;
  private readonly limits: SplitLimits;

  /** Files are named `<prefix>-<n>.jsonl` (n counted from `firstIndex`). */
  constructor(
    readonly dir: string,
    readonly prefix: string,
    limits: Partial<SplitLimits> = {},
    private firstIndex = 0,
    private readonly url: string = CHAT_ENDPOINT,
  ) {
    this.limits = {
      maxRequests: limits.maxRequests ?? BATCH_LIMITS.maxRequests,
      maxBytes: limits.maxBytes ?? BATCH_LIMITS.maxBytes,
    };
    mkdirSync(dir, { recursive: true });
  }

  add(req: BatchRequest): void {
    const line = `${inputLine(req, this.url)}\n`;
    const n = Buffer.byteLength(line);
    if (n > this.limits.maxBytes)
      throw new Error(
        `the request ${req.custom_id} is ${n} bytes, more than a batch file may hold (${this.limits.maxBytes})`,
      );
    if (this.fd !== -1 && (this.count + 1 > this.limits.maxRequests || this.bytes + n > this.limits.maxBytes))
      this.closeFile();
    if (this.fd === -1) this.openFile();
    (this.out as WriteBuffer).put(line);
    this.count++;
    this.bytes += n;
  }

  /** Closes the last file; returns all files written. */
  finish(): InputFile[] {
    if (this.fd !== -1) this.closeFile();
    return this.files;
  }

  /** Removes a half-written file (after an error). */
  abort(): void {
    if (this.fd !== -1) {
      closeSync(this.fd);
      rmSync(this.tmp, { force: true });
      this.fd = -1;
    }
  }

  private openFile(): void {
    this.name = `${this.prefix}-${this.firstIndex + this.files.length}.jsonl`;
    this.tmp = join(this.dir, `.${this.name}.${process.pid}.tmp`);
    this.fd = openSync(this.tmp, 'w', 0o600);
    const hash = createHash('sha256');
    this.hash = hash;
    this.out = new WriteBuffer(this.fd, (b) => hash.update(b));
    this.count = 0;
    this.bytes = 0;
  }

  private closeFile(): void {
    this.out?.flush();
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = -1;
    const path = join(this.dir, this.name);
    renameSync(this.tmp, path);
    this.files.push({
      name: this.name,
      path,
      requests: this.count,
      bytes: this.bytes,
      sha256: (this.hash as Hash).digest('hex'),
    });
  }
}

/** Writes requests to split input files in `dir` and returns them. */
export async function writeInputFiles(
  requests: Iterable<BatchRequest> | AsyncIterable<BatchRequest>,
  dir: string,
  prefix: string,
  limits: Partial<SplitLimits> = {},
): Promise<InputFile[]> {
  const w = new InputFileWriter(dir, prefix, limits);
  try {
    for await (const r of requests) w.add(r);
    return w.finish();
  } catch (err) {
    w.abort();
    throw err;
  }
}
