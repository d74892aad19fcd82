// curate generate instructions|responses|preferences|dialogues FILE --out FILE: the generation
// operations (src/core/synth) from the command line, with the LLM subcommands' flags, through the
// CLI's one operation runner (run-operation.ts).
import { existsSync } from 'node:fs';
import { EVOLUTION_NAMES, SYNTH_TASKS, type SynthTask } from '../../core/synth';
import { readSeedList, sharedInput } from '../../core/synth/common';
import { generateEntries } from '../../core/registry';
import { UsageError, textOrFile, type Command, type Io, type OptionValues } from '../cli';
import { endpointOptions, list, llmFlags, llmUsage, num } from './llm-common';
import { batchFlags, runOperation } from './run-operation';

/** Task options: flag -> [option name, how to read it, the tasks it applies to]. */
type Reader = 'int' | 'number' | 'string' | 'text' | 'list' | 'numbers' | 'bool';
const taskFlags: Record<string, { option: string; read: Reader; tasks: SynthTask[] }> = {
  field: { option: 'field', read: 'string', tasks: ['instructions', 'responses', 'preferences', 'dialogues'] },
  system: { option: 'system', read: 'text', tasks: ['responses', 'preferences', 'dialogues'] },
  guidance: { option: 'instructions', read: 'text', tasks: ['instructions', 'preferences', 'dialogues'] },
  seed: { option: 'seed', read: 'int', tasks: ['instructions', 'responses', 'preferences', 'dialogues'] },
  // instructions
  target: { option: 'target', read: 'int', tasks: ['instructions'] },
  similarity: { option: 'similarity', read: 'number', tasks: ['instructions'] },
  'per-request': { option: 'perRequest', read: 'int', tasks: ['instructions'] },
  'requests-per-round': { option: 'requestsPerRound', read: 'int', tasks: ['instructions'] },
  rounds: { option: 'rounds', read: 'int', tasks: ['instructions'] },
  demonstrations: { option: 'demonstrations', read: 'int', tasks: ['instructions'] },
  'generated-demonstrations': { option: 'generatedDemonstrations', read: 'int', tasks: ['instructions'] },
  evolve: { option: 'evolve', read: 'list', tasks: ['instructions'] },
  'evolve-share': { option: 'evolveShare', read: 'number', tasks: ['instructions'] },
  'min-words': { option: 'minWords', read: 'int', tasks: ['instructions'] },
  'max-words': { option: 'maxWords', read: 'int', tasks: ['instructions'] },
  'min-acceptance': { option: 'minAcceptance', read: 'number', tasks: ['instructions'] },
  window: { option: 'window', read: 'int', tasks: ['instructions'] },
  'output-field': { option: 'outputField', read: 'string', tasks: ['instructions'] },
  // responses
  n: { option: 'n', read: 'int', tasks: ['responses'] },
  'response-field': { option: 'responseField', read: 'string', tasks: ['responses'] },
  'allow-truncated': { option: 'allowTruncated', read: 'bool', tasks: ['responses', 'preferences'] },
  // preferences
  candidates: { option: 'candidates', read: 'int', tasks: ['preferences'] },
  models: { option: 'models', read: 'list', tasks: ['preferences'] },
  temperatures: { option: 'temperatures', read: 'numbers', tasks: ['preferences'] },
  'judge-model': { option: 'judgeModel', read: 'string', tasks: ['preferences'] },
  rubric: { option: 'rubric', read: 'text', tasks: ['preferences'] },
  'min-margin': { option: 'minMargin', read: 'number', tasks: ['preferences'] },
  'judge-max-tokens': { option: 'judgeMaxTokens', read: 'int', tasks: ['preferences'] },
  // dialogues
  turns: { option: 'turns', read: 'int', tasks: ['dialogues'] },
  'per-seed': { option: 'perSeed', read: 'int', tasks: ['dialogues'] },
  mode: { option: 'mode', read: 'string', tasks: ['dialogues'] },
  'user-model': { option: 'userModel', read: 'string', tasks: ['dialogues'] },
};
// Read by hand: --personas FILE, --attribute NAME=V1,V2 (repeatable), --attributes FILE, --scale MIN-MAX.

const options = {
  ...llmFlags,
  ...batchFlags,
  force: { type: 'boolean' },
  personas: { type: 'string' },
  attribute: { type: 'string', multiple: true },
  attributes: { type: 'string' },
  scale: { type: 'string' },
  ...Object.fromEntries(
    Object.entries(taskFlags).map(([flag, f]) => [flag, { type: f.read === 'bool' ? 'boolean' : 'string' }]),
  ),
} as Command['options'];

function read(flag: string, r: Reader, v: unknown): unknown {
  switch (r) {
    case 'int': {
      const n = num(v, flag);
      if (n === undefined || !Number.isInteger(n))
        throw new UsageError(`--${flag} must be an integer, got ${JSON.stringify(v)}`);
      return n;
    }
    case 'number':
      return num(v, flag);
    case 'string':
      return v;
    case 'text':
      return textOrFile(v as string, flag);
    case 'list':
      return list(v);
    case 'numbers':
      return list(v).map((x) => num(x, flag));
    case 'bool':
      return v === true;
  }
}

async function taskOptions(
  task: SynthTask,
  values: OptionValues,
  inputs: string[],
  io: Io,
): Promise<Record<string, unknown>> {
  const o: Record<string, unknown> = {};
  const only = (flag: string, tasks: SynthTask[]) => {
    if (!tasks.includes(task))
      throw new UsageError(`--${flag} is an option of generate ${tasks.join(', ')}, not of generate ${task}`);
  };
  for (const [flag, f] of Object.entries(taskFlags)) {
    if (values[flag] === undefined) continue;
    only(flag, f.tasks);
    o[f.option] = read(flag, f.read, values[flag]);
  }
  if (o.evolve && (o.evolve as string[]).includes('all')) o.evolve = [...EVOLUTION_NAMES];
  if (typeof values.personas === 'string') {
    only('personas', ['instructions', 'dialogues']);
    if (!existsSync(values.personas))
      throw new UsageError(
        `no such file: ${values.personas} (--personas takes a file: one persona a line, or JSONL with a "persona" field)`,
      );
    o.personas = (await readSeedList(values.personas, ['persona', 'text', 'description'], io.signal)).map(
      (p) => p.text,
    );
    if ((o.personas as string[]).length === 0) throw new UsageError(`${values.personas} has no personas`);
  }
  const attributes: Record<string, string[]> = {};
  if (typeof values.attributes === 'string') {
    only('attributes', ['instructions']);
    let parsed: unknown;
    try {
      parsed = JSON.parse(textOrFile(values.attributes, 'attributes'));
    } catch {
      throw new UsageError(
        '--attributes takes a JSON object (or a file with one): {"topic": ["science", "history"], "difficulty": ["easy", "hard"]}',
      );
    }
    Object.assign(attributes, parsed);
  }
  for (const a of (values.attribute as string[] | undefined) ?? []) {
    only('attribute', ['instructions']);
    const m = /^([^=]+)=(.+)$/.exec(a);
    if (!m) throw new UsageError(`--attribute takes NAME=VALUE1,VALUE2,..., got ${JSON.stringify(a)}`);
    attributes[(m[1] as string).trim()] = list(m[2]);
  }
  if (Object.keys(attributes).length) o.attributes = attributes;
  if (typeof values.scale === 'string') {
    only('scale', ['preferences']);
    const m = /^(-?\d+)-(-?\d+)$/.exec(values.scale);
    if (!m) throw new UsageError(`--scale takes MIN-MAX, e.g. 1-10; got ${JSON.stringify(values.scale)}`);
    o.scaleMin = Number(m[1]);
    o.scaleMax = Number(m[2]);
  }
  if (values.force) o.force = true;
  if (inputs.length > 1) {
    if (task !== 'instructions')
      throw new UsageError(`generate ${task} takes one FILE; only generate instructions takes several seed files`);
    o.seedFiles = inputs.slice(1);
  }
  return o;
}

export const generate: Command = {
  name: 'generate',
  summary: 'Generate training data with an LLM: instructions (self-instruct), responses, preference pairs, dialogues',
  usage: `curate generate instructions|responses|preferences|dialogues FILE --out FILE [options]\n${llmUsage}`,
  details: [
    'instructions FILE [FILE...]  seed instructions (JSONL: instruction, prompt, question, messages or text; or a .txt, one a line)',
    '  --target N (100)  --similarity ROUGE-L (0.7: a candidate this close to any instruction in the pool is rejected)',
    '  --per-request N (8)  --requests-per-round N (8)  --rounds N (100)  --demonstrations N (8)  --generated-demonstrations N (2)',
    '  --personas FILE  --attribute NAME=V1,V2 (repeatable) | --attributes JSON|FILE  --evolve deepen,constraints,concretize,reasoning,broaden|all',
    '  --evolve-share X (0.5)  --min-words N (3)  --max-words N (150)  --min-acceptance X (0.1) over --window N (100) candidates',
    'responses FILE  records with an instruction, prompt, ... or messages: --field NAME  --system TEXT|FILE  --n N (1)  --response-field NAME',
    'preferences FILE  --candidates N (2)  --models a,b  --temperatures 0.3,1.0  --judge-model M  --rubric TEXT|FILE  --scale 1-10  --min-margin X (1)',
    'dialogues FILE  topics or personas (JSONL topic, persona, ...; or a .txt, one a line): --turns N (3)  --per-seed N (1)  --mode turns|whole',
    '  --system TEXT|FILE  --personas FILE  --user-model M',
    'All: --out FILE (a new file; --force replaces one no unfinished run is writing)  --seed N (0)  --guidance TEXT|FILE (added to the prompt)',
    'All: --batch  as a Batch API job (half the price, results within 24 hours; a step that needs the answers of the one',
    '  before, a preference judge, a dialogue turn, the next round of instructions from the grown pool, is the next round of',
    '  batches); the same output as online. Ctrl-C stops waiting (the batches go on), the same command resumes them;',
    '  --retry-online sends what the batch left failed online; curate batch status|cancel OUT',
    'Every generated record carries annotations.origin {type: "model", task, model, prompt_hash, seed, round, ...}.',
    'Exit 0 when done; 1 when records failed or the instructions target was not reached (the reason is printed); 130 on Ctrl-C (run again to resume).',
  ].join('\n'),
  options,
  async run({ values, positionals }, io) {
    const [task, ...inputs] = positionals;
    if (!task) throw new UsageError(`missing the task: ${SYNTH_TASKS.join(', ')}`);
    if (!(SYNTH_TASKS as readonly string[]).includes(task))
      throw new UsageError(`unknown task "${task}": choose ${SYNTH_TASKS.join(', ')}`);
    const t = task as SynthTask;
    if (inputs.length === 0) throw new UsageError('missing FILE');
    for (const f of inputs) if (!existsSync(f)) throw new UsageError(`no such file: ${f}`);
    if (typeof values.out !== 'string') throw new UsageError('missing --out FILE: generated records go to a new file');
    // The input is opened and indexed once, for the estimate and the run.
    const input = sharedInput();
    const op = generateEntries({ apiKey: () => process.env.OPENAI_API_KEY, openInput: (o) => input.openInput(o) })[t];
    try {
      return await runOperation(
        op,
        {
          ...(await endpointOptions(values, inputs[0] as string, undefined, io.signal)),
          ...(await taskOptions(t, values, inputs, io)),
        },
        values,
        io,
        { name: `generate ${t}` },
      );
    } finally {
      await input.close();
    }
  },
};
