/**
 * The sync handler served over loopback HTTP with seeded faults at the HTTP layer, for the REST
 * tier of the simulation.
 *
 * The fault of each request is drawn on the client side, by the `fetch` given to
 * `restTransport`, from the seed's PRNG in request order (the simulator waits for each request
 * before its virtual time moves on, so that order is the seed's), and travels to the server in
 * the `x-sim-fault` header; the server enacts it:
 *
 * - `500`, `502`, `503`, `429` (with `Retry-After`): answered before the handler runs (nothing
 *   applied), as an overloaded server or a proxy would;
 * - `reset-before`: the connection is destroyed before the handler runs (nothing applied);
 * - `reset-after`: the handler runs to the end (a push is applied), then the connection is
 *   destroyed instead of answering: a lost answer the client hears as a network error;
 * - `gateway-after`: the handler runs to the end, then a proxy's 502 page replaces the answer.
 *
 * The silent lost answer (server applied, the client hears nothing and times out) is the
 * simulator's own `response-lost` fault, which wraps this transport.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Random } from '@syncline/sync-core/testing';
import type { SyncHandler } from '../../src/handler.js';
import { nodeListener } from '../../src/node/serve.js';

/** Per-request probabilities of each HTTP fault kind (their sum at most 1). */
export interface HttpFaultRates {
  /** One of 500/502/503/429 before the handler runs. */
  status: number;
  /** Connection destroyed before the handler runs. */
  resetBefore: number;
  /** Connection destroyed after the handler ran (a lost answer). */
  resetAfter: number;
  /** A proxy's 502 after the handler ran (a lost answer). */
  gatewayAfter: number;
}

/** The loopback server and the client side of its faults. */
export interface HttpFaultServer {
  /** Base URL, `http://127.0.0.1:<port>`. */
  url: string;
  /** The `fetch` for `restTransport`: draws each request's fault and sends it along. */
  fetch: typeof globalThis.fetch;
  /** Turns faults on for a run, drawn from `random`. */
  arm(rates: HttpFaultRates, random: Random): void;
  /** Turns faults off (the simulator's heal). */
  disarm(): void;
  /** Faults enacted by the server so far, by kind. */
  readonly counts: Map<string, number>;
  /** Closes the server and its connections. */
  close(): Promise<void>;
}

const STATUSES = ['500', '502', '503', '429'] as const;

/** Serves `handler` on 127.0.0.1 (a free port) behind the fault layer. */
export async function serveWithFaults(handler: SyncHandler): Promise<HttpFaultServer> {
  const counts = new Map<string, number>();
  const inner = nodeListener(handler, () => {});
  let armed: { rates: HttpFaultRates; random: Random } | undefined;
  const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    const fault = req.headers['x-sim-fault'];
    if (typeof fault !== 'string' || fault === 'none') return inner(req, res);
    counts.set(fault, (counts.get(fault) ?? 0) + 1);
    void enact(fault, handler, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const draw = (): string => {
    if (armed === undefined) return 'none';
    const { rates, random } = armed;
    let roll = random();
    for (const [kind, rate] of [
      ['status', rates.status],
      ['reset-before', rates.resetBefore],
      ['reset-after', rates.resetAfter],
      ['gateway-after', rates.gatewayAfter],
    ] as const) {
      if (roll < rate) {
        return kind === 'status'
          ? (STATUSES[Math.floor(random() * STATUSES.length)] as string)
          : kind;
      }
      roll -= rate;
    }
    return 'none';
  };
  return {
    url: `http://127.0.0.1:${port}`,
    fetch: (input, init) => {
      const headers = new Headers(init?.headers);
      // The simulator's own reads of the final and purge-time state are not under test.
      const oracle = headers.get('authorization')?.endsWith('~sim-oracle') === true;
      headers.set('x-sim-fault', oracle ? 'none' : draw());
      return globalThis.fetch(input, { ...init, headers });
    },
    arm(rates, random) {
      armed = { rates, random };
    },
    disarm() {
      armed = undefined;
    },
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function enact(
  fault: string,
  handler: SyncHandler,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (fault === 'reset-before') {
    req.socket.destroy();
    return;
  }
  const body = await readBody(req);
  if (fault === 'reset-after' || fault === 'gateway-after') {
    const response = await handler(
      new Request(`http://127.0.0.1${req.url ?? '/'}`, {
        method: req.method ?? 'GET',
        headers: headersOf(req),
        ...(body.length === 0 ? {} : { body: new Uint8Array(body) }),
      }),
    );
    // The handler's work is done (its transaction committed); the answer is what gets lost.
    await response.arrayBuffer();
    if (fault === 'reset-after') {
      req.socket.destroy();
      return;
    }
  }
  const status = fault === 'gateway-after' ? 502 : Number(fault);
  res.writeHead(status, {
    'content-type': 'text/html',
    ...(status === 429 ? { 'retry-after': '2' } : {}),
  });
  res.end(`<html><body>${status} from the simulated proxy</body></html>`);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function headersOf(req: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') headers.set(name, value);
    else if (Array.isArray(value)) for (const v of value) headers.append(name, v);
  }
  return headers;
}
