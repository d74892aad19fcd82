// curate eval-prompt FILE --task label --labels a,b --min-kappa 0.7 [--prompts-dir A --prompts-dir B]:
// the prompt gate (src/core/git/prompt-gate.ts) for pre-commit and CI.
import { existsSync, statSync } from 'node:fs';
import { ZodError } from 'zod';
import { gateTable, runPromptGate } from '../../core/git/prompt-gate';
import { UserError } from '../../core/operation';
import { ExitCode, UsageError, fileArg, intOption, type Command } from '../cli';
import { endpointOptions, list, modelFlags, num } from './llm-common';

export const evalPrompt: Command = {
  name: 'eval-prompt',
  summary:
    "Prompt gate: re-run the label prompt on records people decided; exit 1 when Cohen's kappa is below --min-kappa",
  usage:
    'curate eval-prompt FILE --labels a,b[,c] [--task label] [--min-kappa K] [--prompts-dir DIR]... [--question Q] [--limit N] [--json]\n' +
    '  --base-url URL (or OPENAI_BASE_URL)  --model M (or CURATE_MODEL)  --concurrency N  --temperature T  --max-tokens N\n' +
    '  --timeout S  --rpm N  --tpm N  --cache-dir DIR | --no-cache',
  details:
    "Runs the label task's prompt over the records a person decided (annotations.human.<question> submitted) and compares the\n" +
    "model's labels with the people's: Cohen's kappa, accuracy, macro F1. Nothing is written to FILE.\n" +
    '--prompts-dir DIR: the template folder (label.md in it, as .curator/prompts); give it twice or more to compare folders side\n' +
    'by side on the same records (one row each). Without it: the nearest .curator/prompts, else the built-in prompt.\n' +
    "--min-kappa K: exit 1 when a folder's kappa is below K (the gate). Answers are cached (<FILE folder>/.curator/cache/llm by\n" +
    'default), so unchanged prompts on unchanged records cost nothing when the gate runs again.\n' +
    'The API key is read from OPENAI_API_KEY. See docs/git.md for pre-commit and CI recipes.',
  options: {
    task: { type: 'string' },
    labels: { type: 'string', short: 'l' },
    'min-kappa': { type: 'string' },
    'prompts-dir': { type: 'string', multiple: true },
    question: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
    'base-url': { type: 'string' },
    ...modelFlags,
    'cache-dir': { type: 'string' },
    'no-cache': { type: 'boolean' },
  },
  async run({ values, positionals }, io) {
    const input = fileArg(positionals);
    const task = (values.task as string | undefined) ?? 'label';
    if (task !== 'label')
      throw new UsageError(
        `--task ${task}: only the label task can be gated for now (its answers compare with people's labels)`,
      );
    const labels = list(values.labels);
    if (labels.length < 2)
      throw new UsageError('--labels needs at least two labels, e.g. --labels positive,negative,neutral');
    const minKappa = num(values['min-kappa'], 'min-kappa');
    if (minKappa !== undefined && (minKappa < -1 || minKappa > 1))
      throw new UsageError('--min-kappa must be between -1 and 1');
    const dirs = (values['prompts-dir'] as string[] | undefined) ?? [];
    for (const d of dirs)
      if (!existsSync(d) || !statSync(d).isDirectory()) throw new UsageError(`--prompts-dir ${d}: no such folder`);
    const limit = values.limit === undefined ? undefined : intOption(values.limit, 'limit');
    const { limit: _l, output: _o, ...endpoint } = await endpointOptions(values, input, undefined, io.signal);
    const label = { ...endpoint, labels, ...(values.question ? { question: values.question } : {}) };
    let last = 0;
    try {
      const report = await runPromptGate({
        label,
        promptsDirs: dirs.length ? dirs : [undefined],
        ...(minKappa !== undefined ? { minKappa } : {}),
        ...(limit !== undefined ? { limit } : {}),
        apiKey: process.env.OPENAI_API_KEY,
        signal: io.signal,
        progress: (done, total, folder) => {
          if (!io.isTTY || (Date.now() - last < 200 && done < total)) return;
          last = Date.now();
          io.err(`\r${folder}: ${done}/${total}   ${done === total ? '\n' : ''}`);
        },
      });
      if (values.json) io.out(`${JSON.stringify(report, null, 2)}\n`);
      else {
        io.out(`${report.file}: ${report.decided} record(s) a person decided (${report.question})\n`);
        io.out(`${gateTable(report)}\n`);
        for (const r of report.runs) for (const f of r.failures) io.out(`  ${r.folder}: line ${f.line}: ${f.reason}\n`);
        if (report.minKappa !== undefined) {
          const failing = report.runs.filter((r) => !r.pass).map((r) => r.folder);
          io.out(
            report.pass
              ? `gate: kappa >= ${report.minKappa}: pass\n`
              : `gate: kappa below ${report.minKappa} for ${failing.join(', ')}: FAIL\n`,
          );
        }
      }
      return report.pass ? ExitCode.ok : ExitCode.failure;
    } catch (err) {
      if (err instanceof ZodError)
        throw new UsageError(err.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('\n'));
      if (err instanceof UserError) {
        io.err(`curate eval-prompt: ${err.message}\n`);
        return ExitCode.failure;
      }
      throw err;
    }
  },
};
