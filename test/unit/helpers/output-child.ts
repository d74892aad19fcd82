// Child process of the output-writer tests: starts writing OUT through writeLinesAtomic (the writer
// of filter --out, split, export), says "writing" once a few MB are in its temp file, then waits
// (the parent kills it with SIGKILL midway, as a user's kill -9 would).
//   output-child OUT
import { writeLinesAtomic } from '../../../src/core/write-lines';

async function* lines(): AsyncGenerator<string> {
  const pad = 'x'.repeat(200);
  for (let i = 0; i < 20_000; i++) yield `{"i":${i},"pad":"${pad}"}`;
  process.stdout.write('writing\n');
  await new Promise(() => undefined); // never ends
}

void writeLinesAtomic(process.argv[2]!, lines());
