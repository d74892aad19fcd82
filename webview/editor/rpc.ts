// The webview's side of the protocol: typed requests with ids, and the host's events. Every
// message from the host is validated against the protocol's zod schemas. Those schemas (zod is
// over half of the webview's code) are a separate script loaded after the page's load event
// (protocol-loader.ts), which the page's embedded init makes possible without them; messages that
// arrive before the script wait for it, in order.
import { loadProtocol } from './protocol-loader';
import type { FromWebview, HostEvent, RequestMethod, RequestParams, RequestResult } from '../../src/shared/protocol';

type Protocol = typeof import('../../src/shared/protocol');

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

/** A request the host answered with an error; `code` when it names one (`stale`: see the protocol's Generation). */
export class HostError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export class HostConnection {
  private readonly api = acquireVsCodeApi();
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private protocol: Protocol | undefined;
  private loading: Promise<Protocol> | undefined;
  private readonly backlog: unknown[] = [];
  /** Messages to the host held back until release() (see hold). */
  private held: unknown[] | undefined;

  constructor(private readonly onEvent: (e: HostEvent) => void) {
    window.addEventListener('message', (e: MessageEvent<unknown>) => this.receive(e.data));
  }

  /** Loads the protocol's schemas (main.ts asks at once; they come after the page's load event). */
  schemas(): Promise<Protocol> {
    this.loading ??= loadProtocol().then((p) => {
      this.protocol = p;
      for (const data of this.backlog.splice(0)) this.handle(p, data);
      return p;
    });
    return this.loading;
  }

  private receive(data: unknown): void {
    if (this.protocol) this.handle(this.protocol, data);
    else {
      this.backlog.push(data);
      void this.schemas();
    }
  }

  private handle(p: Protocol, data: unknown): void {
    const parsed = p.ToWebview.safeParse(data);
    if (!parsed.success) {
      this.notify({ kind: 'notify', type: 'log', level: 'warn', message: `webview ignored a malformed message` });
      return;
    }
    const msg = parsed.data;
    if (msg.kind === 'event') {
      this.onEvent(msg);
      return;
    }
    const waiter = this.pending.get(msg.id);
    if (!waiter) return;
    this.pending.delete(msg.id);
    if (msg.ok) waiter.resolve(msg.result);
    else waiter.reject(new HostError(msg.error.message, msg.error.code));
  }

  notify(message: Extract<FromWebview, { kind: 'notify' }>): void {
    this.post(message);
  }

  /**
   * Holds what the page says to the host (notifications, requests) until release(), in order. The
   * page holds them while it starts from its embedded init, until it is on screen: each message
   * crosses the workbench's main thread, the thread that also builds and draws the page, and the
   * host's answers would come back just before that frame (docs/performance.md).
   */
  hold(): void {
    this.held ??= [];
  }

  /** Sends what was held, in order; from now on messages go at once. */
  release(): void {
    const held = this.held;
    this.held = undefined;
    for (const m of held ?? []) this.api.postMessage(m);
  }

  private post(message: unknown): void {
    if (this.held) this.held.push(message);
    else this.api.postMessage(message);
  }

  /** Sends a request; resolves with its result validated against the protocol's schema. */
  request<M extends RequestMethod>(method: M, params: RequestParams<M>): Promise<RequestResult<M>> {
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.post({ kind: 'request', id, method, params });
    }).then(async (result) => (await this.schemas()).requests[method].result.parse(result) as RequestResult<M>);
  }

  get state(): unknown {
    return this.api.getState();
  }
  set state(value: unknown) {
    this.api.setState(value);
  }
}
