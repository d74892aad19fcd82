// Starts the code-server build of VS Code on 127.0.0.1 with this repo loaded as the extension under
// development, and prints the URL to open. Used by `npm run demo`.
import { parseArgs } from 'node:util';
import { codeServerVersion, startCodeServer } from './vscode';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: 'string' }, folder: { type: 'string' } } });
  if (!values.folder) throw new Error('--folder is required');
  const server = await startCodeServer({
    port: values.port ? Number(values.port) : undefined,
    persistent: true,
    target: 'dev',
  });
  console.log(`\nDataset Curator is running in VS Code ${codeServerVersion()} (code-server build).`);
  console.log('Open this URL in a browser (Ctrl-C to stop):\n');
  console.log(`  ${server.url({ folder: values.folder })}\n`);
  console.log('Then click the Datasets icon in the activity bar and pick samples/reviews.jsonl.');
  const stop = () => void server.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
