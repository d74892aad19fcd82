// A child process that runs one generation operation (used by the kill -9 / resume tests):
//   node --import tsx test/support/generate-child.ts <task> '<options as JSON>'
// Prints the summary as JSON on stdout when it finishes.
import { quietContext } from '../../src/core/operation';
import { synthOperations, type SynthTask } from '../../src/core/synth';

async function main(): Promise<void> {
  const [task, json] = process.argv.slice(2) as [SynthTask, string];
  const ops = synthOperations({ apiKey: () => 'sk-child' });
  const op = ops[task];
  const options = op.options.parse(JSON.parse(json)) as never;
  const summary = await op.run(options, quietContext());
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
