// Batch benchmark: a label task over 100,000 records through batch files, against the loopback
// server's Batch API (in a child process, so its CPU is not the client's).
//
//   node --import tsx bench/batch.ts [--records 100000] [--online 2000]
//
// Each phase runs in its own child process, so its peak memory (maxRSS) is its own:
//   build    the requests of every record (prompt rendered, custom_id from its content) written to
//            split input files                      baseline: a hand-written writer (readline +
//                                                   JSON.parse + a template, custom_id = line number)
//   e2e      the whole job (build, upload, create, poll, download, apply, save): wall time and the
//            client's CPU per request               baseline: the online engine's CPU per request
//                                                   (LlmClient, concurrency 64, same server, `--online` requests)
//   apply    the downloaded output files applied to a copy of the dataset (custom_id lookup from
//            the records' current content, zod validation, store edits, atomic save)
//                                                   baseline: a hand-written join by line number
//                                                   (readline + JSON.parse + Map, no content check,
//                                                   no validation, written with fs streams)
//   command  what a person runs: `curate label FILE --batch` (the built CLI, dist/cli.js), the whole
//            command (cost estimate, build, upload, batches, download, apply through the dataset
//            store, save), its wall time, CPU and peak memory
//                                                   baseline: the e2e phase (the same job applied
//                                                   in one pass, file-apply.ts, as `curate batch
//                                                   import` applies a results file)
//   online   the same records labeled online by the command (`curate label FILE`, concurrency 64),
//            its CPU per record                     baseline: the online engine's CPU per request
//                                                   (the e2e phase's baseline): a job's CPU per
//                                                   record must not grow with its size
//   editor   the same job over a file open in the curation editor, through VS Code's sink (each
//            result an edit the editor is told of, saved every 50,000 while the person has no
//            unsaved edits), its peak memory         baseline: the online command (no editor); and
//                                                   the same sink holding every result until the
//                                                   job's end, as before
//   resume-estimate  the cost estimate of a label job stopped after a tenth of the records, as
//            its resume shows it (the records left exact, their tokens counted on a sample)
//                                                   baseline: the same file's estimate on a first
//                                                   run (no journal; a sample read)
// Targets: apply 100k results in 10 s or less within 200 MB; the online command's CPU per record at
// most twice the engine's; the editor's job within 1.25x the command's memory. Writes
// bench/results/batch.json.
import { spawn } from 'node:child_process';
import {
  closeSync,
  createReadStream,
  createWriteStream,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { builtCli, report, type Row } from './lib';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] as string) : def;
}

const RECORDS = Number(arg('records', '100000'));
const ONLINE = Number(arg('online', process.env.DC_BENCH_ONLINE ?? '2000'));
const LABELS = ['positive', 'negative', 'neutral'];

interface PhaseResult {
  ms: number;
  cpuMs: number;
  maxRssMB: number;
  [k: string]: unknown;
}

function measure<T extends Record<string, unknown>>(t0: bigint, cpu0: NodeJS.CpuUsage, extra: T): PhaseResult & T {
  const cpu = process.cpuUsage(cpu0);
  return {
    ms: Number(process.hrtime.bigint() - t0) / 1e6,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
    ...extra,
  };
}

// ---- the phases (run in children) -------------------------------------------------------------

async function labelSetup(input: string, baseURL: string) {
  const { LlmClient } = await import('../src/core/llm/client');
  const { createTask, LabelOptions } = await import('../src/core/llm/tasks');
  const { batchFacet } = await import('../src/core/llm/batch/facet');
  const { taskAdapter } = await import('../src/core/llm/batch/records');
  const client = new LlmClient({ baseURL, apiKey: 'sk-bench', model: 'bench-model' });
  const task = createTask(
    'label',
    LabelOptions.parse({ input, baseURL, model: 'bench-model', labels: LABELS, noCache: true }),
    { client },
  );
  const facet = batchFacet(task);
  if (!facet) throw new Error('no batch facet');
  return { adapter: taskAdapter(facet), client, task };
}

async function phase(name: string, a: string[]): Promise<Record<string, unknown>> {
  const [input, baseURL, work] = a as [string, string, string];
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  if (name === 'build') {
    // as runFileBatchJob builds them: the file streamed, each record's request rendered
    const { fileRequests } = await import('../src/core/llm/batch/file-apply');
    const { writeInputFiles } = await import('../src/core/llm/batch/input-files');
    const { adapter, client } = await labelSetup(input, baseURL);
    const files = await writeInputFiles(fileRequests(input, adapter), join(work, 'build'), 'bench');
    client.close();
    return measure(t0, cpu0, {
      files: files.length,
      requests: files.reduce((n, f) => n + f.requests, 0),
      bytes: files.reduce((n, f) => n + f.bytes, 0),
    });
  }
  if (name === 'baseline-build') {
    const out = createWriteStream(join(work, 'baseline-requests.jsonl'));
    const system =
      'You are a careful data annotator labelling records of a machine-learning dataset.\nChoose exactly one label from this set: positive, negative, neutral.';
    let i = 0;
    for await (const line of createInterface({ input: createReadStream(input), crlfDelay: Infinity })) {
      if (!line) continue;
      const rec = JSON.parse(line) as Record<string, unknown>;
      const body = {
        model: 'bench-model',
        messages: [
          { role: 'system', content: system },
          { role: 'user', content: `Record:\n${JSON.stringify(rec)}` },
        ],
        response_format: { type: 'json_object' },
      };
      if (
        !out.write(`${JSON.stringify({ custom_id: `r${i++}`, method: 'POST', url: '/v1/chat/completions', body })}\n`)
      )
        await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    return measure(t0, cpu0, { requests: i });
  }
  if (name === 'e2e') {
    const { BatchApiClient } = await import('../src/core/llm/batch/api');
    const { runFileBatchJob } = await import('../src/core/llm/batch/job');
    const target = join(work, 'e2e.jsonl');
    const { adapter, client } = await labelSetup(input, baseURL);
    const marks: Array<{ phase: string; ms: number }> = [];
    let last = '';
    const r = await runFileBatchJob({
      api: new BatchApiClient({ baseURL, apiKey: 'sk-bench' }),
      input,
      output: target,
      adapter,
      journalDir: `${target}.curator-journal`,
      job: 'bench',
      model: 'bench-model',
      poll: { initialMs: 100, maxMs: 500, factor: 1.5 },
      progress: (p) => {
        const ph =
          /^(writing the batch|uploading|batch|downloading|applying|writing \d)/.exec(p.message ?? '')?.[1] ?? 'other';
        if (ph !== last) {
          last = ph;
          marks.push({ phase: ph, ms: Number(process.hrtime.bigint() - t0) / 1e6 });
        }
      },
    });
    client.close();
    return measure(t0, cpu0, { ok: r.batch.ok, applied: r.records.applied, parts: r.batch.parts.length, marks });
  }
  if (name === 'apply') {
    const { FileApplier } = await import('../src/core/llm/batch/file-apply');
    const { outcomesOf } = await import('../src/core/llm/batch/format');
    const outputs = a.slice(3);
    const { adapter, client } = await labelSetup(input, baseURL);
    const applier = new FileApplier(adapter);
    for (const path of outputs) for await (const o of outcomesOf(path)) applier.add(o);
    const readMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const s = await applier.write(input, join(work, 'apply.jsonl'));
    client.close();
    return measure(t0, cpu0, { applied: s.applied, failed: s.failed.length, readMs });
  }
  if (name === 'baseline-apply') {
    // a hand-written join by line number: the requests' custom_ids in record order, the outputs in a Map
    const outputs = a.slice(3);
    const order: string[] = [];
    for (const f of readdirSync(join(work, 'e2e.jsonl.curator-journal', 'bench.batch.files'))
      .filter((n) => /^bench-\d+\.jsonl$/.test(n))
      .sort()) {
      for await (const line of createInterface({
        input: createReadStream(join(work, 'e2e.jsonl.curator-journal', 'bench.batch.files', f)),
        crlfDelay: Infinity,
      })) {
        if (line) order.push((JSON.parse(line) as { custom_id: string }).custom_id);
      }
    }
    const answers = new Map<string, string>();
    for (const path of outputs) {
      for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
        if (!line) continue;
        const o = JSON.parse(line) as {
          custom_id: string;
          response: { body: { choices: Array<{ message: { content: string } }> } };
        };
        answers.set(o.custom_id, o.response.body.choices[0]?.message.content ?? '');
      }
    }
    const out = createWriteStream(join(work, 'baseline-apply.jsonl'));
    let i = 0;
    let applied = 0;
    for await (const line of createInterface({ input: createReadStream(input), crlfDelay: Infinity })) {
      if (!line) continue;
      const rec = JSON.parse(line) as Record<string, unknown>;
      const content = answers.get(order[i++] ?? '');
      if (content) {
        rec.label = (JSON.parse(content) as { label: string }).label;
        applied++;
      }
      if (!out.write(`${JSON.stringify(rec)}\n`)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    return measure(t0, cpu0, { applied });
  }
  if (name === 'editor-sink') {
    // A label job over a file open in the curation editor, through VS Code's sink (each result an
    // edit the editor is told of: src/extension/llmCommands.ts documentEnv): saved every
    // SINK_BATCH results (`every`), or held as edits until the job's end (`hold`, before).
    const mode = a[3] as 'every' | 'hold';
    const { LlmClient } = await import('../src/core/llm/client');
    const { createTask, LabelOptions } = await import('../src/core/llm/tasks');
    const { runJob } = await import('../src/core/jobs/runner');
    const { openJobTarget, SINK_BATCH, StoreRecordSource, StoreResultSink } = await import('../src/core/jobs/store-io');
    const client = new LlmClient({ baseURL, apiKey: 'sk-bench', model: 'bench-model', concurrency: 64 });
    const task = createTask(
      'label',
      LabelOptions.parse({ input, baseURL, model: 'bench-model', labels: LABELS, noCache: true }),
      { client },
    );
    const target = join(work, `editor-${mode}.jsonl`);
    const ds = await openJobTarget(input, target);
    await ds.ready;
    let told = 0;
    const sink = new StoreResultSink(ds, {
      onApplied: () => {
        told++;
      },
      ...(mode === 'every' ? { saveEvery: { results: SINK_BATCH, canSave: () => true } } : {}),
    });
    const s = await runJob({
      jobId: `editor-${mode}`,
      journalDir: join(work, `editor-${mode}.journal`),
      task,
      source: new StoreRecordSource(ds),
      sink,
      concurrency: 64,
    });
    client.close();
    ds.close();
    return measure(t0, cpu0, { ok: s.ok, told });
  }
  if (name === 'resume-estimate') {
    // A label job stopped after a tenth of the records (its journal keeps them), then its cost
    // estimate as a resume shows it: the records with an entry read (each checked against its
    // content) and a sample of those left tokenized (src/core/estimate.ts). `first`: the same
    // file's estimate with no journal (a first run: a sample read and tokenized), the cost a
    // resume's estimate is held to; it read and parsed every record before (17 s against 0.8 s
    // for the 1 GB file).
    const { llmEntries } = await import('../src/core/registry');
    const { quietContext } = await import('../src/core/operation');
    const label = llmEntries({ apiKey: () => 'sk-bench' }).label;
    const o = {
      input,
      output: join(work, `resume-${a[3]}.jsonl`),
      baseURL,
      model: 'bench-model',
      labels: LABELS,
      noCache: true,
      concurrency: 64,
      pricePerMillionInputTokens: 0.15,
      pricePerMillionOutputTokens: 0.6,
    };
    let stopped: number | undefined;
    if (a[3] === 'resume') {
      const ac = new AbortController();
      await label
        .prepare(o)
        .run({
          ...quietContext(ac.signal),
          progress: (p) => {
            if (p.done >= RECORDS / 10) ac.abort();
          },
        })
        .catch((err: unknown) => (stopped = label.prepare(o).cancelled(err)?.result.ok));
    }
    const t1 = process.hrtime.bigint();
    const cpu1 = process.cpuUsage();
    const e = await label.prepare(o).estimate(quietContext());
    return measure(t1, cpu1, { done: stopped ?? 0, remaining: e?.remaining ?? 0, sampled: e?.sampled ?? 0 });
  }
  if (name === 'online') {
    const { LlmClient } = await import('../src/core/llm/client');
    const { JsonlDataset } = await import('../src/core/store');
    const { createTask, LabelOptions } = await import('../src/core/llm/tasks');
    const client = new LlmClient({ baseURL, apiKey: 'sk-bench', model: 'bench-model', concurrency: 64 });
    const task = createTask(
      'label',
      LabelOptions.parse({ input, baseURL, model: 'bench-model', labels: LABELS, noCache: true }),
      { client },
    );
    const ds = await JsonlDataset.open(input);
    await ds.ready;
    const n = Math.min(ONLINE, ds.lineCount);
    const t1 = process.hrtime.bigint();
    const cpu1 = process.cpuUsage();
    let next = 0;
    let ok = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        for (;;) {
          const i = next++;
          if (i >= n) return;
          const rec = ds.line(i).value as Record<string, unknown>;
          const r = await task.run(rec, { signal: new AbortController().signal, index: i, line: i + 1 });
          if (r.ok) ok++;
        }
      }),
    );
    client.close();
    ds.close();
    return measure(t1, cpu1, { requests: n, ok });
  }
  throw new Error(`unknown phase ${name}`);
}

// ---- the driver -------------------------------------------------------------------------------

/** The phases run from an esbuild bundle, as the CLI ships (dist/cli.js): no on-the-fly compiler in the figures. */
let bundled = '';
async function bundle(work: string): Promise<void> {
  const esbuild = await import('esbuild');
  const out = join(work, 'bundle');
  const root = join(__dirname, '..');
  await esbuild.build({
    // (the tokenizer beside the bundle, as the build puts it: src/core/llm/tokenizer.ts loads it there)
    entryPoints: {
      'bench-batch': __filename,
      'scan-worker': join(root, 'src/core/store/scan-worker.ts'),
      tokenizer: join(root, 'src/core/llm/tokenizer-impl.ts'),
    },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outdir: out,
    logLevel: 'warning',
    external: ['esbuild'],
  });
  bundled = join(out, 'bench-batch.js');
}

function child(args: string[], nodeFlags: string[] = []): Promise<Record<string, unknown> & PhaseResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...nodeFlags, bundled, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, DC_BENCH_ONLINE: String(ONLINE) },
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) {
        reject(new Error(`phase ${args[1]} exited ${code}: ${out}`));
        return;
      }
      resolve(JSON.parse(last) as Record<string, unknown> & PhaseResult);
    });
  });
}

/**
 * Runs the built CLI (`node dist/cli.js ...args`) as a person does, with a preload that reports
 * the process's own wall time, CPU and peak memory as it exits.
 */
function command(args: string[], more: string[], work: string): Promise<PhaseResult> {
  const preload = join(work, 'rusage.cjs');
  writeFileSync(
    preload,
    `const t0 = process.hrtime.bigint();
process.on('exit', () => {
  const r = process.resourceUsage();
  require('fs').writeSync(2, 'RUSAGE ' + JSON.stringify({ ms: Number(process.hrtime.bigint() - t0) / 1e6, cpuMs: (r.userCPUTime + r.systemCPUTime) / 1000, maxRssMB: r.maxRSS / 1024 }) + '\\n');
});
`,
  );
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['-r', preload, builtCli(), ...args, ...more], {
      cwd: work,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, OPENAI_API_KEY: 'sk-bench' },
    });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code) => {
      const m = /RUSAGE (\{.*\})/.exec(err);
      if (code !== 0 || !m?.[1]) {
        reject(new Error(`curate ${args[0] ?? ''} exited ${code}: ${err.slice(-2000)}`));
        return;
      }
      resolve(JSON.parse(m[1]) as PhaseResult);
    });
  });
}

function generate(path: string, n: number): number {
  const words =
    'the quality battery screen support refund delivery price love hate works broke fast slow great poor value'.split(
      ' ',
    );
  let seed = 7;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const fd = openSync(path, 'w');
  let bytes = 0;
  for (let i = 0; i < n;) {
    const lines: string[] = [];
    for (let k = 0; k < 5000 && i < n; k++, i++) {
      lines.push(
        JSON.stringify({
          id: `r${i}`,
          text: Array.from({ length: 110 }, () => words[Math.floor(rnd() * words.length)]).join(' '),
          source: 'web',
          rating: 1 + (i % 5),
        }),
      );
    }
    const b = Buffer.from(`${lines.join('\n')}\n`);
    writeSync(fd, b);
    bytes += b.length;
  }
  closeSync(fd);
  return bytes;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--phase') {
    const r = await phase(process.argv[3] as string, process.argv.slice(4));
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'dc-bench-batch-'));
  await bundle(work);
  const { spawnOpenAIServer } = await import('../test/support/openai-server');
  const { url, child: server } = await spawnOpenAIServer([]);
  const baseURL = `${url}/v1`;
  try {
    const input = join(work, 'data.jsonl');
    const bytes = generate(input, RECORDS);
    console.log(`${RECORDS.toLocaleString('en-US')} records, ${(bytes / 1e6).toFixed(0)} MB`);
    const baseBuild = await child(['--phase', 'baseline-build', input, baseURL, work]);
    const build = await child(['--phase', 'build', input, baseURL, work]);
    console.log(
      `build: ${build.ms.toFixed(0)} ms (${build.files as number} files, ${((build.bytes as number) / 1e6).toFixed(0)} MB); hand-written writer ${baseBuild.ms.toFixed(0)} ms`,
    );
    rmSync(join(work, 'build'), { recursive: true, force: true });
    const e2e = await child(['--phase', 'e2e', input, baseURL, work]);
    console.log(
      `end to end: ${e2e.ms.toFixed(0)} ms, ${e2e.applied as number} applied, marks ${JSON.stringify(e2e.marks)}`,
    );
    const files = join(work, 'e2e.jsonl.curator-journal', 'bench.batch.files');
    const outputs = readdirSync(files)
      .filter((n) => n.endsWith('.output.jsonl'))
      .sort()
      .map((n) => join(files, n));
    const apply = await child(['--phase', 'apply', input, baseURL, work, ...outputs]);
    const baseApply = await child(['--phase', 'baseline-apply', input, baseURL, work, ...outputs]);
    // the same apply with V8's old space capped: what the work holds, without the heap's growth slack
    const capped = await child(['--phase', 'apply', input, baseURL, work, ...outputs], ['--max-old-space-size=96']);
    console.log(
      `apply: ${apply.ms.toFixed(0)} ms (CPU ${apply.cpuMs.toFixed(0)} ms), ${apply.maxRssMB.toFixed(0)} MB peak (reading the results ${(apply.readMs as number).toFixed(0)} ms); hand-written join ${baseApply.ms.toFixed(0)} ms, ${baseApply.maxRssMB.toFixed(0)} MB`,
    );
    const online = await child(['--phase', 'online', input, baseURL, work]);
    const cmd = await command(
      ['label', input, '--labels', LABELS.join(','), '--base-url', baseURL, '--model', 'bench-model'],
      ['--batch', '--out', join(work, 'command.jsonl'), '--yes', '--no-cache'],
      work,
    );
    console.log(
      `curate label --batch: ${cmd.ms.toFixed(0)} ms (CPU ${cmd.cpuMs.toFixed(0)} ms), ${cmd.maxRssMB.toFixed(0)} MB peak`,
    );
    // The same records labeled online by the command (concurrency 64): a job's CPU per record must
    // not grow with its size (the SDK's abort listeners once piled up on the job's signal: 3.1 ms a
    // record over 100,000 records, quadratic), nor its memory with its results held as edits.
    const cmdOnline = await command(
      ['label', input, '--labels', LABELS.join(','), '--base-url', baseURL, '--model', 'bench-model'],
      ['--out', join(work, 'online.jsonl'), '--yes', '--no-cache', '--concurrency', '64'],
      work,
    );
    console.log(
      `curate label (online, 64 at a time): ${cmdOnline.ms.toFixed(0)} ms (CPU ${cmdOnline.cpuMs.toFixed(0)} ms), ${cmdOnline.maxRssMB.toFixed(0)} MB peak`,
    );
    // The same job in VS Code: through the curation editor's sink, saved as it goes, and as before.
    const editorEvery = await child(['--phase', 'editor-sink', input, baseURL, work, 'every']);
    const editorHold = await child(['--phase', 'editor-sink', input, baseURL, work, 'hold']);
    console.log(
      `a label job through the editor's sink: ${editorEvery.ms.toFixed(0)} ms, ${editorEvery.maxRssMB.toFixed(0)} MB peak (${editorEvery.told as number} results shown); its results held until the end: ${editorHold.ms.toFixed(0)} ms, ${editorHold.maxRssMB.toFixed(0)} MB`,
    );
    // A resumed job's cost estimate, against a first run's.
    const resumeEst = await child(['--phase', 'resume-estimate', input, baseURL, work, 'resume']);
    const firstEst = await child(['--phase', 'resume-estimate', input, baseURL, work, 'first']);
    console.log(
      `a resumed job's estimate (${resumeEst.done as number} done, ${resumeEst.remaining as number} left, tokens counted on ${resumeEst.sampled as number}): ${resumeEst.ms.toFixed(0)} ms; a first run's ${firstEst.ms.toFixed(0)} ms (tokens counted on ${firstEst.sampled as number})`,
    );
    const batchCpu = e2e.cpuMs / RECORDS;
    const onlineCpu = online.cpuMs / (online.requests as number);
    const cmdOnlineCpu = cmdOnline.cpuMs / RECORDS;
    const rows: Row[] = [
      {
        figure: `build ${RECORDS.toLocaleString('en-US')} requests (split files)`,
        value: build.ms,
        unit: 'ms',
        baseline: baseBuild.ms,
        baselineLabel: 'hand-written writer',
        ratio: build.ms / baseBuild.ms,
        target: '≤ 3x baseline',
        pass: build.ms <= 3 * baseBuild.ms,
      },
      {
        figure: `apply ${RECORDS.toLocaleString('en-US')} results (content check, validation, save)`,
        value: apply.ms,
        unit: 'ms',
        baseline: baseApply.ms,
        baselineLabel: 'hand-written join by line',
        ratio: apply.ms / baseApply.ms,
        target: `≤ ${(10 * RECORDS) / 100_000} s`,
        pass: apply.ms <= 10_000 * (RECORDS / 100_000),
      },
      {
        figure: 'apply: CPU time',
        value: apply.cpuMs,
        unit: 'ms',
        baseline: baseApply.cpuMs,
        baselineLabel: 'hand-written join by line',
        ratio: apply.cpuMs / baseApply.cpuMs,
        target: `≤ ${(10 * RECORDS) / 100_000} s`,
        pass: apply.cpuMs <= 10_000 * (RECORDS / 100_000),
      },
      {
        figure: 'apply: peak memory, old space capped at 96 MB',
        value: capped.maxRssMB,
        unit: 'MB',
        baseline: baseApply.maxRssMB,
        baselineLabel: 'hand-written join by line',
        ratio: capped.maxRssMB / baseApply.maxRssMB,
        target: '≤ 200 MB',
        pass: capped.maxRssMB <= 200,
      },
      {
        figure: 'apply: peak memory',
        value: apply.maxRssMB,
        unit: 'MB',
        baseline: baseApply.maxRssMB,
        baselineLabel: 'hand-written join by line',
        ratio: apply.maxRssMB / baseApply.maxRssMB,
        target: '≤ 200 MB',
        pass: apply.maxRssMB <= 200,
      },
      {
        figure: `curate label --batch, ${RECORDS.toLocaleString('en-US')} records, the whole command`,
        value: cmd.ms,
        unit: 'ms',
        baseline: e2e.ms,
        baselineLabel: 'the same job applied in one pass',
        ratio: cmd.ms / e2e.ms,
        target: '',
      },
      {
        figure: 'curate label --batch: peak memory',
        value: cmd.maxRssMB,
        unit: 'MB',
        baseline: e2e.maxRssMB,
        baselineLabel: 'the same job applied in one pass',
        ratio: cmd.maxRssMB / e2e.maxRssMB,
        target: '',
      },
      {
        figure: `curate label online, ${RECORDS.toLocaleString('en-US')} records at 64: CPU per record, the whole command`,
        value: cmdOnlineCpu,
        unit: 'ms',
        baseline: onlineCpu,
        baselineLabel: `online engine, ${(online.requests as number).toLocaleString('en-US')} requests at 64`,
        ratio: cmdOnlineCpu / onlineCpu,
        target: '≤ 2x (no growth with the job)',
        pass: cmdOnlineCpu <= 2 * onlineCpu,
      },
      {
        figure: 'curate label online: peak memory',
        value: cmdOnline.maxRssMB,
        unit: 'MB',
        baseline: cmd.maxRssMB,
        baselineLabel: 'curate label --batch',
        ratio: cmdOnline.maxRssMB / cmd.maxRssMB,
        target: '',
      },
      {
        figure: `a label job in an open editor (VS Code's sink: each result shown, saved every 50,000), ${RECORDS.toLocaleString('en-US')} records: peak memory`,
        value: editorEvery.maxRssMB,
        unit: 'MB',
        baseline: cmdOnline.maxRssMB,
        baselineLabel: 'curate label online, no editor',
        ratio: editorEvery.maxRssMB / cmdOnline.maxRssMB,
        target: '≤ 1.25x',
        pass: editorEvery.maxRssMB <= 1.25 * cmdOnline.maxRssMB && editorEvery.told === RECORDS,
      },
      {
        figure: '  the same job with its results held as edits until its end (before)',
        value: editorHold.maxRssMB,
        unit: 'MB',
        baseline: editorEvery.maxRssMB,
        baselineLabel: 'saved every 50,000',
        ratio: editorHold.maxRssMB / editorEvery.maxRssMB,
        target: '',
      },
      {
        figure: `a resumed label job's cost estimate (${RECORDS.toLocaleString('en-US')} records, ${(resumeEst.done as number).toLocaleString('en-US')} done; the records left exact: ${(resumeEst.remaining as number).toLocaleString('en-US')})`,
        value: resumeEst.ms,
        unit: 'ms',
        baseline: firstEst.ms,
        baselineLabel: 'the same file`s estimate on a first run',
        ratio: resumeEst.ms / firstEst.ms,
        target: '',
      },
      {
        figure: 'client CPU per request, whole batch job',
        value: batchCpu,
        unit: 'ms',
        baseline: onlineCpu,
        baselineLabel: `online engine, ${online.requests as number} requests at 64`,
        ratio: batchCpu / onlineCpu,
        target: '≤ 0.5x online',
        pass: batchCpu <= 0.5 * onlineCpu,
      },
      {
        figure: 'build: CPU time',
        value: build.cpuMs,
        unit: 'ms',
        baseline: baseBuild.cpuMs,
        baselineLabel: 'hand-written writer',
        ratio: build.cpuMs / baseBuild.cpuMs,
        target: '≤ 3x baseline',
        pass: build.cpuMs <= 3 * baseBuild.cpuMs,
      },
      {
        figure: 'build: peak memory',
        value: build.maxRssMB,
        unit: 'MB',
        baseline: baseBuild.maxRssMB,
        baselineLabel: 'hand-written writer',
        ratio: build.maxRssMB / baseBuild.maxRssMB,
        target: '≤ 200 MB',
        pass: build.maxRssMB <= 200,
      },
    ];
    report('batch', rows, {
      records: RECORDS,
      bytes,
      loadavg: loadavg(),
      capped,
      e2e: { ms: e2e.ms, cpuMs: e2e.cpuMs, maxRssMB: e2e.maxRssMB, marks: e2e.marks },
      apply,
      build,
      online: { requests: online.requests, cpuMs: online.cpuMs, ms: online.ms },
      command: cmd,
      commandOnline: cmdOnline,
    });
  } finally {
    server.kill('SIGTERM');
    if (existsSync(work)) rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
