// A `fetch` for the openai SDK built on node:http/https with a keep-alive Agent per client.
//
// Why: Node 20's global fetch (bundled undici) costs 1-4 ms of CPU per request with the SDK on top
// and gives no way to size its connection pool without the `undici` package (which is not a
// dependency of the extension). node:http with `keepAlive` and `maxSockets >= concurrency` reuses
// connections and is several times cheaper per request. Responses are buffered (the engine only
// makes non-streaming calls); a streaming body is still exposed as a web stream by `Response`.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export type FetchLike = (url: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface NodeFetch {
  fetch: FetchLike;
  /** Closes idle sockets; in-flight requests finish. */
  destroy(): void;
}

function abortError(): Error {
  const e = new Error('The operation was aborted.');
  e.name = 'AbortError';
  return e;
}

export function createNodeFetch(opts: { maxSockets?: number } = {}): NodeFetch {
  const maxSockets = opts.maxSockets ?? 256;
  const httpAgent = new HttpAgent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo' });
  const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo' });

  const fetch: FetchLike = (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const url = typeof input === 'string' ? new URL(input) : input instanceof URL ? input : new URL(input.url);
      const signal = init.signal ?? undefined;
      if (signal?.aborted) {
        reject(abortError());
        return;
      }
      const headers: Record<string, string> = {};
      const h = init.headers;
      if (h instanceof Headers) h.forEach((v, k) => (headers[k] = v));
      else if (Array.isArray(h)) for (const [k, v] of h as Array<[string, string]>) headers[k.toLowerCase()] = v;
      else if (h) for (const [k, v] of Object.entries(h)) headers[k.toLowerCase()] = String(v);
      let body: string | Buffer | undefined;
      if (typeof init.body === 'string') body = init.body;
      else if (init.body instanceof ArrayBuffer) body = Buffer.from(init.body);
      else if (ArrayBuffer.isView(init.body))
        body = Buffer.from(init.body.buffer, init.body.byteOffset, init.body.byteLength);
      else if (init.body != null) {
        reject(new TypeError('node fetch: unsupported body type'));
        return;
      }
      if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
      // Said outright: in VS Code's extension host, its proxy support wraps each request in an agent
      // of its own (keepAlive off, whatever the agent given), and Node then asks the server to
      // close the connection after the answer (microsoft/vscode#173861): every request paid a new
      // connection, and a TLS handshake for a hosted endpoint (60 connections for 60 requests at 4
      // at a time, test/integration/jobs.test.ts). With the header, the connection goes back to
      // this agent's pool (or, for a host VS Code resolves itself, to Node's global one).
      if (!('connection' in headers)) headers.connection = 'keep-alive';
      const isHttps = url.protocol === 'https:';
      const req = (isHttps ? httpsRequest : httpRequest)(url, {
        method: init.method ?? 'GET',
        headers,
        agent: isHttps ? httpsAgent : httpAgent,
      });
      let settled = false;
      const onAbort = (): void => {
        req.destroy(abortError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = (): void => {
        settled = true;
        signal?.removeEventListener('abort', onAbort);
      };
      req.on('error', (err) => {
        if (settled) return;
        done();
        reject(signal?.aborted ? abortError() : err);
      });
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => {
          if (settled) return;
          done();
          reject(signal?.aborted ? abortError() : err);
        });
        res.on('aborted', () => {
          if (settled) return;
          done();
          reject(signal?.aborted ? abortError() : new Error('response aborted'));
        });
        res.on('end', () => {
          if (settled) return;
          done();
          const rh = new Headers();
          const raw = res.rawHeaders;
          for (let i = 0; i + 1 < raw.length; i += 2) rh.append(raw[i] as string, raw[i + 1] as string);
          const status = res.statusCode ?? 500;
          const buf = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
          const nullBody = status === 204 || status === 205 || status === 304;
          resolve(new Response(nullBody ? null : buf, { status, statusText: res.statusMessage ?? '', headers: rh }));
        });
      });
      if (body !== undefined) req.end(body);
      else req.end();
    });

  return {
    fetch,
    destroy() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
