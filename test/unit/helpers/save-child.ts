// Child process of the crash test: opens a dataset, edits it, says "saving", saves, says "saved
// MS". The parent kills it with SIGKILL at random moments of the save.
//   save-child PATH start   edits near the start (the whole file is streamed to the temp file)
//   save-child PATH end     edits the last line only (the kernel copies the untouched start)
import { JsonlDataset } from '../../../src/core/store';

async function main(): Promise<void> {
  const path = process.argv[2]!;
  const mode = process.argv[3] ?? 'start';
  const ds = await JsonlDataset.open(path);
  await ds.ready;
  if (mode === 'end') ds.setField(ds.lineCount - 1, ['label'], 'changed');
  else {
    ds.setField(1, ['label'], 'changed');
    ds.insertLine(ds.lineCount, { appended: true });
    ds.deleteLine(3);
  }
  process.stdout.write('saving\n');
  const t = performance.now();
  await ds.save();
  process.stdout.write(`saved ${Math.round(performance.now() - t)}\n`);
  ds.close();
}

void main();
