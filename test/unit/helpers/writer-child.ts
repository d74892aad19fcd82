// Child process of the concurrent-writers test: TRIALS times, opens the dataset, sets its own
// field `w.<ID>-<trial>` on a random line and saves; a ConflictError (the file changed since it was
// opened, or another writer held the lock too long) is that trial's honest failure. Prints the
// trials whose save succeeded as JSON: each must be in the final file (none lost).
//   writer-child PATH ID TRIALS
import { ConflictError, JsonlDataset } from '../../../src/core/store';
import { writeHooks } from '../../../src/core/store/files';

// The writer is paused 0-4 ms between its last check and its rename, as a busy machine pauses it
// now and then: without the lock two writers then both pass the check and one edit is lost.
const nap = new Int32Array(new SharedArrayBuffer(4));
writeHooks.beforeRename = () => void Atomics.wait(nap, 0, 0, Math.random() * 4);

async function main(): Promise<void> {
  const [path, id, trials] = [process.argv[2]!, process.argv[3]!, Number(process.argv[4] ?? 10)];
  const saved: string[] = [];
  let conflicts = 0;
  // Start together: say "ready" on stderr; the parent writes "go" on stdin when all are.
  const go = new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  process.stderr.write('ready\n');
  await go;
  for (let t = 0; t < trials; t++) {
    const ds = await JsonlDataset.open(path);
    try {
      await ds.ready;
      const key = `${id}-${t}`;
      ds.setField(Math.floor(Math.random() * ds.lineCount), ['w', key], t);
      try {
        await ds.save();
        saved.push(key);
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        conflicts++;
      }
    } finally {
      ds.close();
    }
    await new Promise((r) => setTimeout(r, Math.random() * 2));
  }
  process.stdout.write(`${JSON.stringify({ saved, conflicts })}\n`);
  process.stdin.destroy();
}

void main();
