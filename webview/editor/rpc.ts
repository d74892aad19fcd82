// The webview's side of the protocol: typed requests with ids, and the host's events.
import {
  HostEvent,
  ToWebview,
  type FromWebview,
  type RequestMethod,
  type RequestParams,
  type RequestResult,
  requests,
} from '../../src/shared/protocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

export class HostConnection {
  private readonly api = acquireVsCodeApi();
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(private readonly onEvent: (e: HostEvent) => void) {
    window.addEventListener('message', (e: MessageEvent<unknown>) => this.receive(e.data));
  }

  private receive(data: unknown): void {
    const parsed = ToWebview.safeParse(data);
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
    else waiter.reject(new Error(msg.error.message));
  }

  notify(message: Extract<FromWebview, { kind: 'notify' }>): void {
    this.api.postMessage(message);
  }

  /** Sends a request; resolves with its result validated against the protocol's schema. */
  request<M extends RequestMethod>(method: M, params: RequestParams<M>): Promise<RequestResult<M>> {
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.api.postMessage({ kind: 'request', id, method, params });
    }).then((result) => requests[method].result.parse(result) as RequestResult<M>);
  }

  get state(): unknown {
    return this.api.getState();
  }
  set state(value: unknown) {
    this.api.setState(value);
  }
}
