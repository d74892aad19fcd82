// LLM engine benchmark: throughput and client CPU against the loopback OpenAI-compatible server
// (started in a child process, so its CPU is not counted as the client's) with a fixed latency.
//
//   node --import tsx bench/llm.ts [--latency 50] [--seconds 3] [--rounds 5]
//
// For concurrency 1, 8 and 64: requests/s as a share of the ideal (concurrency / latency), and the
// client's CPU per request (process.cpuUsage / requests). Each request is a structured label call
// (json_schema response_format, zod validation of the answer). Baseline, measured in the same run:
// the bare SDK (`new OpenAI()` with its default fetch, maxRetries 0) doing the same request and
// parse; and the floor under any client: the same request body by hand over node:http (a
// keep-alive agent), its answer parsed and validated with the same zod schema, no SDK. All three
// in ROUNDS rounds per level (their order turning), medians reported. Targets: the bare SDK's
// throughput at each level (issue 19), >= 95% of ideal at 64; CPU per request no more than the
// bare SDK's (issue 19) and <= 0.5 ms (issue 5) at 8 and 64: at 1 that is under the floor by
// hand on this machine (0.84 ms in the table's run). Writes bench/results/llm.json.
//
// The floor shows what this machine charges for a request whatever the client: at c=1 the
// process sleeps 50 ms between answers, and a request after a sleep costs several times its CPU
// when warm (caches and the core's state: a bare 50 ms timer costs ~0.2 ms of CPU to wake here).
import { spawn } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { z } from 'zod';
import { LlmClient } from '../src/core/llm/client';
import { structuredCall, structuredSpec } from '../src/core/llm/structured';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isFinite(v)) throw new Error(`--${name} needs a number`);
  return v;
}
const LATENCY = arg('latency', 50);
const SECONDS = arg('seconds', 3);
const LEVELS = [1, 8, 64];
const ROUNDS = arg('rounds', 5);

const Answer = z.object({
  label: z.enum(['positive', 'negative', 'neutral']),
  confidence: z.number().min(0).max(1),
  rationale: z.string(),
});
const spec = structuredSpec(Answer, 'label_answer');
const system =
  'You are a careful data annotator. Choose exactly one label from: positive, negative, neutral. Give confidence and a short rationale.';
const messagesFor = (i: number) => [
  { role: 'system' as const, content: system },
  {
    role: 'user' as const,
    content: `Record:\n{"id":${i},"text":"This is review number ${i}; the product arrived on time and works as described."}`,
  },
];

async function startServer(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(__dirname, '..', 'test', 'support', 'openai-server.ts'),
      '--port',
      '0',
      '--latency',
      String(LATENCY),
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /listening (http:\/\/\S+)/.exec(buf);
      if (m?.[1]) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

interface Run {
  concurrency: number;
  requests: number;
  seconds: number;
  rps: number;
  ideal: number;
  share: number;
  cpuMsPerRequest: number;
  failures: number;
}

/** Keeps `c` requests in flight for SECONDS, counting completions. */
async function drive(c: number, one: (i: number) => Promise<boolean>): Promise<Run> {
  let i = 0;
  let done = 0;
  let failures = 0;
  const deadline = performance.now() + SECONDS * 1000;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (performance.now() < deadline) {
        const ok = await one(i++);
        done++;
        if (!ok) failures++;
      }
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const rps = done / wall;
  const ideal = c / (LATENCY / 1000);
  return {
    concurrency: c,
    requests: done,
    seconds: wall,
    rps,
    ideal,
    share: rps / ideal,
    cpuMsPerRequest: (cpu.user + cpu.system) / 1000 / done,
    failures,
  };
}

/** Each figure's median over the rounds (a run's figures need not come from one round). */
function medianRun(runs: Run[]): Run {
  const med = (f: (r: Run) => number): number => {
    const xs = runs.map(f).sort((a, b) => a - b);
    return xs[xs.length >> 1] as number;
  };
  const first = runs[0] as Run;
  return {
    ...first,
    requests: med((r) => r.requests),
    seconds: med((r) => r.seconds),
    rps: med((r) => r.rps),
    share: med((r) => r.share),
    cpuMsPerRequest: med((r) => r.cpuMsPerRequest),
    failures: runs.reduce((n, r) => n + r.failures, 0),
  };
}

async function main(): Promise<void> {
  const server = await startServer();
  const baseURL = `${server.url}/v1`;
  console.log(`server ${baseURL}, latency ${LATENCY} ms, ${SECONDS} s per level, ${cpus().length} cores`);
  const ours: Run[] = [];
  const bare: Run[] = [];
  const floor: Run[] = [];
  try {
    for (const c of LEVELS) {
      // ours: LlmClient + structuredCall (keep-alive node:http fetch, AIMD limiter, zod validation)
      const client = new LlmClient({ baseURL, apiKey: 'sk-bench', model: 'bench', concurrency: c, timeoutMs: 30_000 });
      const oneOurs = async (i: number): Promise<boolean> =>
        (await structuredCall(client, { messages: messagesFor(i), spec, params: { temperature: 0, max_tokens: 128 } }))
          .ok;
      // baseline: the bare SDK with its default fetch
      const sdk = new OpenAI({ baseURL, apiKey: 'sk-bench', maxRetries: 0, timeout: 30_000 });
      const oneBare = async (i: number): Promise<boolean> => {
        const r = await sdk.chat.completions.create({
          model: 'bench',
          messages: messagesFor(i),
          temperature: 0,
          // eslint-disable-next-line @typescript-eslint/no-deprecated -- the same body as ours (LlmClient sends max_tokens, which OpenAI-compatible servers read)
          max_tokens: 128,
          response_format: spec.responseFormat,
        });
        return Answer.safeParse(JSON.parse(r.choices[0]?.message.content ?? 'null')).success;
      };
      // the floor: the same body by hand over node:http, the answer parsed and validated, no SDK
      const agent = new Agent({ keepAlive: true, maxSockets: c });
      const url = new URL(`${baseURL}/chat/completions`);
      const oneRaw = (i: number): Promise<boolean> =>
        new Promise((resolve, reject) => {
          const body = JSON.stringify({
            model: 'bench',
            messages: messagesFor(i),
            temperature: 0,
            max_tokens: 128,
            response_format: spec.responseFormat,
          });
          const req = httpRequest(
            url,
            {
              method: 'POST',
              agent,
              headers: {
                'content-type': 'application/json',
                'content-length': String(Buffer.byteLength(body)),
                authorization: 'Bearer sk-bench',
              },
            },
            (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (d: Buffer) => chunks.push(d));
              res.on('error', reject);
              res.on('end', () => {
                try {
                  const r = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
                    choices?: { message?: { content?: string } }[];
                  };
                  resolve(Answer.safeParse(JSON.parse(r.choices?.[0]?.message?.content ?? 'null')).success);
                } catch (err) {
                  reject(err instanceof Error ? err : new Error(String(err)));
                }
              });
            },
          );
          req.on('error', reject);
          req.end(body);
        });
      const contenders = [oneOurs, oneBare, oneRaw];
      for (const one of contenders) await drive(c, one).catch(() => undefined); // warm-up (connections, JIT)
      // ROUNDS rounds of each, the order turning each round: one 3 s sample of any is as noisy as
      // the differences at c=1, where most of a request's CPU is the process waking up for it.
      const runs: Run[][] = contenders.map(() => []);
      for (let r = 0; r < ROUNDS; r++) {
        for (let k = 0; k < contenders.length; k++) {
          const j = (k + r) % contenders.length;
          runs[j]!.push(await drive(c, contenders[j]!));
        }
      }
      client.close();
      agent.destroy();
      const o = medianRun(runs[0]!);
      const b = medianRun(runs[1]!);
      const f = medianRun(runs[2]!);
      ours.push(o);
      bare.push(b);
      floor.push(f);
      console.log(
        `  c=${c}: ours ${o.rps.toFixed(0)} req/s (${(o.share * 100).toFixed(1)}% of ideal), ${o.cpuMsPerRequest.toFixed(3)} ms CPU/req; bare SDK ${b.rps.toFixed(0)} req/s, ${b.cpuMsPerRequest.toFixed(3)} ms CPU/req; node:http by hand ${f.rps.toFixed(0)} req/s, ${f.cpuMsPerRequest.toFixed(3)} ms CPU/req (medians of ${ROUNDS} rounds)`,
      );
    }
  } finally {
    server.stop();
  }

  const rows: Array<{
    figure: string;
    value: number;
    baseline: number;
    baselineLabel?: string;
    ratio: number;
    target: string;
    pass?: boolean;
  }> = [];
  for (let k = 0; k < LEVELS.length; k++) {
    const o = ours[k] as Run;
    const b = bare[k] as Run;
    rows.push({
      figure: `req/s at c=${o.concurrency} (ideal ${o.ideal.toFixed(0)})`,
      value: o.rps,
      baseline: b.rps,
      ratio: o.rps / b.rps,
      // issue 19: the same throughput as the bare SDK at each level
      target: '>= 0.95x bare SDK',
      pass: o.rps / b.rps >= 0.95,
    });
    rows.push({
      figure: `share of ideal at c=${o.concurrency}`,
      value: o.share,
      baseline: b.share,
      ratio: o.share / b.share,
      target: o.concurrency === 64 ? '>= 0.95' : '',
      pass: o.concurrency === 64 ? o.share >= 0.95 : undefined,
    });
    rows.push({
      figure: `client CPU ms/request at c=${o.concurrency}`,
      value: o.cpuMsPerRequest,
      baseline: b.cpuMsPerRequest,
      ratio: o.cpuMsPerRequest / b.cpuMsPerRequest,
      // issue 19: no more CPU per request than the bare SDK; issue 5: at most 0.5 ms, which at c=1
      // is under what the request costs by hand here (the floor row: the process wakes from a
      // 50 ms sleep for each answer), so it is held at 8 and 64 only
      target: o.concurrency === 1 ? '<= 1x bare SDK (0.5 ms: under the floor here)' : '<= 1x bare SDK, <= 0.5 ms',
      pass: o.cpuMsPerRequest <= b.cpuMsPerRequest && (o.concurrency === 1 || o.cpuMsPerRequest <= 0.5),
    });
    const f = floor[k] as Run;
    rows.push({
      figure: `  the floor: the same request by hand over node:http, CPU ms/request at c=${f.concurrency}`,
      value: f.cpuMsPerRequest,
      baseline: o.cpuMsPerRequest,
      baselineLabel: 'ours',
      ratio: f.cpuMsPerRequest / o.cpuMsPerRequest,
      target: '',
    });
  }
  const pad = (s: string, n: number): string => s.padEnd(n);
  console.log(`\n${pad('figure', 40)}${pad('value', 12)}${pad('baseline', 12)}${pad('ratio', 8)}target`);
  for (const r of rows) {
    console.log(
      `${pad(r.figure, 40)}${pad(r.value.toFixed(3), 12)}${pad(r.baseline.toFixed(3), 12)}${pad(r.ratio.toFixed(2), 8)}${r.target}${r.pass === undefined ? '' : r.pass ? '  ok' : '  MISSED'}`,
    );
  }
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(
    join(__dirname, 'results', 'llm.json'),
    `${JSON.stringify({ date: new Date().toISOString(), latencyMs: LATENCY, secondsPerLevel: SECONDS, cores: cpus().length, node: process.version, ours, bareSdk: bare, nodeHttp: floor, rows }, null, 2)}\n`,
  );
  console.log('\nwrote bench/results/llm.json');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
