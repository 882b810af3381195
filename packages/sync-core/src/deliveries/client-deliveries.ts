import { SyncError } from '../errors/sync-error.js';
import type { IdGenerator } from '../ids/uuid-v7.js';
import type { DeliveryStatus } from '../protocol/sessions.js';
import type { Delivery, DeliveryTarget, Json } from '../protocol/types.js';
import { type SignedInContext, transportLacks } from '../sessions/client-sessions.js';
import type { DeliveryTransport } from '../transport/types.js';
import type { TargetSpec } from './targets.js';

/** What `client.deliveries.send` takes. */
export interface SendDeliveryOptions {
  /** App-defined kind, e.g. `'open-url'`. */
  kind: string;
  /** App data (JSON). */
  payload?: Json;
  /**
   * sha256 of an asset the receivers fetch before their handler runs. `client.assets.send`
   * uploads the bytes and sets it; here the asset must already be on the server.
   */
  asset?: string;
  /**
   * Who receives it: `otherSessions()`, `sessions([...])` or `scopeMembers(scope)`.
   * @default otherSessions()
   */
  target?: TargetSpec;
  /**
   * Seconds until the delivery expires (judged on the server's clock). A server refuses a
   * `ttl` above its cap (`maxDeliveryTtlSeconds`) with a `rejected` SyncError of status 400.
   * @default the server's default: 172800 (48 h), or the server's cap when that is lower
   */
  ttl?: number;
  /**
   * Delivery id (idempotency key).
   * @default a new UUIDv7
   */
  id?: string;
}

/** `client.deliveries`: send items to sessions and follow them. */
export interface DeliveriesApi {
  /**
   * Sends a delivery; resolves with it once the server holds it (retried through the client's
   * retryer while the network is down; the id makes a retry safe).
   * @throws SyncError `auth` when signed out, `invalid` for a bad kind or ttl or a payload that
   *   is not JSON (a BigInt, a cycle: refused at once, never retried), `rejected` (400, code
   *   `invalid`) for a ttl above the server's cap, `rejected` or `auth` (403) when the server
   *   refuses the target
   */
  send(options: SendDeliveryOptions): Promise<Delivery>;
  /**
   * Who acknowledged a delivery this user sent.
   * @throws SyncError `rejected` (404, code `not_found`) for an id this user never sent, or
   *   one purged after its retention
   */
  status(id: string): Promise<DeliveryStatus>;
}

/** Options of {@link ClientDeliveries}. */
export interface ClientDeliveriesOptions {
  /** The transport's delivery part. */
  transport: DeliveryTransport | undefined;
  /** Makes delivery ids. */
  newId: IdGenerator;
  /**
   * The signed-in context, or `null` (its scope is that of `otherSessions` and `sessions`
   * deliveries).
   */
  context(): SignedInContext | null;
}

/** See {@link DeliveriesApi}. */
export class ClientDeliveries implements DeliveriesApi {
  readonly #options: ClientDeliveriesOptions;

  constructor(options: ClientDeliveriesOptions) {
    this.#options = options;
  }

  async send(options: SendDeliveryOptions): Promise<Delivery> {
    if (typeof options.kind !== 'string' || options.kind.length === 0) {
      throw new SyncError('invalid', 'A delivery needs a kind');
    }
    // Without a ttl, none goes on the wire: the server applies its default, which respects
    // its own cap (a fixed 48 h here would be refused by a server capped lower).
    const ttl = options.ttl;
    if (ttl !== undefined && (!Number.isInteger(ttl) || ttl <= 0)) {
      throw new SyncError('invalid', `ttl must be a positive whole number of seconds, not ${ttl}`);
    }
    if (options.payload !== undefined) checkJson(options.payload);
    const { transport, context } = this.#require();
    const spec = options.target ?? { type: 'otherSessions' };
    let target: DeliveryTarget;
    let scope: string;
    if (spec.type === 'scopeMembers') {
      target = { type: 'scopeMembers' };
      scope = spec.scope;
    } else {
      target = spec.type === 'sessions' ? { type: 'sessions', ids: [...spec.ids] } : spec;
      scope = context.scope;
    }
    const request = {
      id: options.id ?? this.#options.newId(),
      scope,
      kind: options.kind,
      ...(options.payload === undefined ? {} : { payload: options.payload }),
      ...(options.asset === undefined ? {} : { assetHash: options.asset }),
      target,
      ...(ttl === undefined ? {} : { ttlSeconds: ttl }),
    };
    return context.retryer.run(() => transport.send(request, context.signal), context.signal);
  }

  async status(id: string): Promise<DeliveryStatus> {
    const { transport, context } = this.#require();
    if (transport.status === undefined) {
      throw new SyncError('invalid', 'The transport cannot read delivery status');
    }
    return (await transport.status(id, context.signal)).status;
  }

  #require(): { transport: DeliveryTransport; context: SignedInContext } {
    const transport = this.#options.transport;
    if (transport === undefined) throw transportLacks('deliveries');
    const context = this.#options.context();
    if (context === null) throw new SyncError('auth', 'Not signed in');
    return { transport, context };
  }
}

/**
 * Refuses a payload `JSON.stringify` cannot write (a BigInt, a cycle) before the retryer sees
 * it: its `TypeError` is no `SyncError`, so the retryer would take it for a network failure and
 * retry it for ever.
 * @throws SyncError `invalid`
 */
function checkJson(payload: Json): void {
  try {
    JSON.stringify(payload);
  } catch (cause) {
    throw new SyncError('invalid', `The payload is not JSON: ${String(cause)}`, { cause });
  }
}
