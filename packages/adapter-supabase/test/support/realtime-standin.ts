/**
 * A Supabase Realtime stand-in at `/realtime/v1/websocket`: the Phoenix protocol as
 * realtime-js speaks it (vsn 2.0.0 array frames, and 1.0.0 object frames), heartbeats,
 * `phx_join` / `phx_leave` / `access_token`, and Broadcast from Database:
 *
 * - a private channel is authorised against the test database the way Realtime does it
 *   (`authorization.ex`): a probe row for the topic is inserted, the role, claims and
 *   `realtime.topic` are set for the transaction, the row is read back through row-level
 *   security, and the transaction is rolled back. No row: the join is refused with
 *   Realtime's "Unauthorized" reason;
 * - rows inserted into `realtime.messages` (by `realtime.send`) are announced by the
 *   bootstrap's NOTIFY trigger (standing in for the replication stream), read by id and sent
 *   to the sockets joined to `realtime:<topic>` with the same `private` flag: as binary
 *   user-broadcast frames (kind 4) under vsn 2.0.0, as JSON under 1.0.0.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { SqlExecutor } from '@syncline/server';
import { type WebSocket, WebSocketServer } from 'ws';
import { verifyBearer } from './jwt.js';

interface Joined {
  joinRef: string;
  subtopic: string;
  private: boolean;
}

interface Client {
  socket: WebSocket;
  vsn: string;
  apikey: string | undefined;
  channels: Map<string, Joined & { token: string | undefined }>;
}

const ROLLBACK = Symbol('rollback');

/** The Realtime endpoint over `db` (superuser: it inserts probe rows and reads messages). */
export class RealtimeStandIn {
  readonly #db: SqlExecutor;
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #clients = new Set<Client>();
  #refusing = false;
  #unlisten: (() => Promise<void>) | undefined;
  /** Every join decision, in order (for assertions). */
  readonly joins: Array<{ topic: string; ok: boolean }> = [];

  constructor(db: SqlExecutor) {
    this.#db = db;
  }

  /** Starts following `realtime.messages`. */
  async start(): Promise<void> {
    this.#unlisten = await this.#db.listen('realtime_standin_messages', (id) => {
      void this.#deliver(id);
    });
  }

  /** Takes an HTTP upgrade for `/realtime/v1/websocket`. */
  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.#refusing) {
      socket.destroy();
      return;
    }
    const url = new URL(request.url ?? '/', 'http://localhost');
    this.#wss.handleUpgrade(request, socket, head, (ws) => {
      const client: Client = {
        socket: ws,
        vsn: url.searchParams.get('vsn') ?? '1.0.0',
        apikey: url.searchParams.get('apikey') ?? undefined,
        channels: new Map(),
      };
      this.#clients.add(client);
      ws.on('close', () => this.#clients.delete(client));
      ws.on('message', (data, isBinary) => {
        if (isBinary) return; // client broadcasts (kind 3): not used by syncline
        void this.#onFrame(client, data.toString()).catch(() => ws.terminate());
      });
    });
  }

  /** Cuts every connection (realtime-js reconnects on its own). */
  dropConnections(): void {
    for (const client of this.#clients) client.socket.terminate();
  }

  /** Refuses new connections while `refuse` is true. */
  refuseConnections(refuse: boolean): void {
    this.#refusing = refuse;
  }

  /** Number of open sockets. */
  get connections(): number {
    return this.#clients.size;
  }

  /** Stops listening and closes every socket. */
  async close(): Promise<void> {
    this.dropConnections();
    this.#wss.close();
    await this.#unlisten?.();
  }

  async #onFrame(client: Client, text: string): Promise<void> {
    const frame: unknown = JSON.parse(text);
    const [joinRef, ref, topic, event, payload] = Array.isArray(frame)
      ? (frame as [string | null, string | null, string, string, Record<string, unknown>])
      : [
          (frame as { join_ref?: string }).join_ref ?? null,
          (frame as { ref?: string }).ref ?? null,
          (frame as { topic: string }).topic,
          (frame as { event: string }).event,
          (frame as { payload: Record<string, unknown> }).payload,
        ];
    const reply = (status: 'ok' | 'error', response: Record<string, unknown>) =>
      this.#send(client, joinRef, ref, topic, 'phx_reply', { status, response });

    if (topic === 'phoenix' && event === 'heartbeat') return reply('ok', {});
    if (event === 'phx_join') {
      const config = (payload.config ?? {}) as { private?: boolean };
      const token = typeof payload.access_token === 'string' ? payload.access_token : client.apikey;
      const subtopic = topic.replace(/^realtime:/, '');
      const isPrivate = config.private === true;
      const allowed = !isPrivate || (await this.#mayRead(token, subtopic));
      this.joins.push({ topic: subtopic, ok: allowed });
      if (!allowed) {
        return reply('error', {
          reason: `Unauthorized: You do not have permissions to read from this Channel topic: ${subtopic}`,
        });
      }
      client.channels.set(topic, { joinRef: joinRef ?? '', subtopic, private: isPrivate, token });
      return reply('ok', { postgres_changes: [] });
    }
    if (event === 'access_token') {
      const joined = client.channels.get(topic);
      if (joined !== undefined && typeof payload.access_token === 'string') {
        joined.token = payload.access_token;
        if (joined.private && !(await this.#mayRead(joined.token, joined.subtopic))) {
          client.channels.delete(topic);
          this.#send(client, joinRef, null, topic, 'system', {
            message: 'Unauthorized: access token no longer grants this channel',
            status: 'error',
            extension: 'system',
            channel: joined.subtopic,
          });
          this.#send(client, joinRef, null, topic, 'phx_close', {});
        }
      }
      return;
    }
    if (event === 'phx_leave') {
      client.channels.delete(topic);
      return reply('ok', {});
    }
    return reply('error', { reason: `unsupported event ${event}` });
  }

  /** Realtime's read check: a probe row, read back under the caller's role and claims. */
  async #mayRead(token: string | undefined, subtopic: string): Promise<boolean> {
    const verified = await verifyBearer(token);
    if ('refused' in verified) return false;
    const claims = verified.claims;
    const role = typeof claims.role === 'string' ? claims.role : 'anon';
    let seen = false;
    try {
      await this.#db.transaction(async (tx) => {
        const [probe] = await tx.query<{ id: string }>(
          `INSERT INTO realtime.messages (topic, extension, private, payload, event)
           VALUES ($1, 'broadcast', true, '{}', 'probe') RETURNING id`,
          [subtopic],
        );
        await tx.query(
          `SELECT set_config('role', $1, true), set_config('request.jwt.claims', $2, true),
                  set_config('request.jwt.claim.sub', $3, true),
                  set_config('request.jwt.claim.role', $1, true),
                  set_config('realtime.topic', $4, true)`,
          [role, JSON.stringify(claims), String(claims.sub ?? ''), subtopic],
        );
        const rows = await tx.query('SELECT 1 FROM realtime.messages WHERE id = $1', [probe?.id]);
        seen = rows.length > 0;
        throw ROLLBACK;
      });
    } catch (error) {
      if (error !== ROLLBACK) return false;
    }
    return seen;
  }

  async #deliver(id: string): Promise<void> {
    const [message] = await this.#db.query<{
      topic: string;
      event: string;
      payload: unknown;
      private: boolean;
    }>('SELECT topic, event, payload, private FROM realtime.messages WHERE id = $1', [id]);
    if (message === undefined || message.event === 'probe') return;
    const topic = `realtime:${message.topic}`;
    for (const client of this.#clients) {
      const joined = client.channels.get(topic);
      if (joined === undefined || joined.private !== message.private) continue;
      if (client.vsn === '2.0.0') {
        client.socket.send(userBroadcastFrame(topic, message.event, { id }, message.payload));
      } else {
        this.#send(client, null, null, topic, 'broadcast', {
          type: 'broadcast',
          event: message.event,
          payload: message.payload,
          meta: { id },
        });
      }
    }
  }

  #send(
    client: Client,
    joinRef: string | null,
    ref: string | null,
    topic: string,
    event: string,
    payload: unknown,
  ): void {
    const frame =
      client.vsn === '2.0.0'
        ? [joinRef, ref, topic, event, payload]
        : { join_ref: joinRef, ref, topic, event, payload };
    client.socket.send(JSON.stringify(frame));
  }
}

/** Realtime's binary user broadcast (kind 4, JSON encoding), as `v2_serializer.ex` writes it. */
export function userBroadcastFrame(
  topic: string,
  event: string,
  meta: unknown,
  payload: unknown,
): Buffer {
  const parts = [topic, event, JSON.stringify(meta)].map((s) => Buffer.from(s, 'utf8'));
  const [t, e, m] = parts as [Buffer, Buffer, Buffer];
  const header = Buffer.from([4, t.length, e.length, m.length, 1]);
  return Buffer.concat([header, t, e, m, Buffer.from(JSON.stringify(payload), 'utf8')]);
}
