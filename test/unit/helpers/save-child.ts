// Child process of the fault tests: opens a dataset, edits it, says "saving", saves, says "saved".
// The parent kills it with SIGKILL at random moments of the save.
import { JsonlDataset } from '../../../src/core/store';

async function main(): Promise<void> {
  const path = process.argv[2]!;
  const ds = await JsonlDataset.open(path);
  await ds.ready;
  ds.setField(1, ['label'], 'changed');
  ds.insertLine(ds.lineCount, { appended: true });
  ds.deleteLine(3);
  process.stdout.write('saving\n');
  const t = performance.now();
  await ds.save();
  process.stdout.write(`saved ${Math.round(performance.now() - t)}\n`);
  ds.close();
}

void main();
