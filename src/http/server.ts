// The operator's HTTP endpoint: GET /metrics for Prometheus, GET /health for load balancers and
// orchestrators, and the admin routes that the service registers. Small, dependency-free, and
// on its own port so that a scrape or an admin call can never delay SIP (it shares the event loop,
// so every handler is short and never blocks).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

export interface HttpReply {
  readonly status: number;
  readonly body: string | object;
  readonly contentType?: string;
}

/** A route handler; `query` holds the URL's search parameters. Throwing gives a 500 with the message. */
export type Handler = (query: URLSearchParams, req: IncomingMessage) => HttpReply | Promise<HttpReply>;

export class HttpApi {
  readonly #routes = new Map<string, Handler>();
  #server: Server | undefined;

  route(method: HttpMethod, path: string, handler: Handler): this {
    this.#routes.set(`${method} ${path}`, handler);
    return this;
  }

  /** Listens on `host:port` (IPv6 host in brackets); resolves with the bound port (useful with port 0). */
  listen(hostPort: string): Promise<number> {
    const colon = hostPort.lastIndexOf(':');
    const host = hostPort.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
    const port = Number(hostPort.slice(colon + 1));
    const server = createServer((req, res) => void this.#serve(req, res));
    // Admin clients are few and short-lived; idle keep-alive sockets must not hold shutdown back.
    server.keepAliveTimeout = 5000;
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        const addr = server.address();
        resolve(typeof addr === 'object' && addr !== null ? addr.port : port);
      });
    });
  }

  close(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return Promise.resolve();
    this.#server = undefined;
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const handler = this.#routes.get(`${req.method} ${url.pathname}`);
    let reply: HttpReply;
    if (handler === undefined) {
      const allowed = [...this.#routes.keys()].filter((k) => k.endsWith(` ${url.pathname}`)).map((k) => k.split(' ')[0]);
      reply = allowed.length > 0
        ? { status: 405, body: { error: `method ${req.method} not allowed on ${url.pathname}`, allowed } }
        : { status: 404, body: { error: `no route ${url.pathname}` } };
    } else {
      try {
        reply = await handler(url.searchParams, req);
      } catch (e) {
        reply = { status: 500, body: { error: e instanceof Error ? e.message : String(e) } };
      }
    }
    const text = typeof reply.body === 'string' ? reply.body : `${JSON.stringify(reply.body, null, 2)}\n`;
    res.writeHead(reply.status, { 'content-type': reply.contentType ?? (typeof reply.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json') });
    res.end(text);
  }
}
