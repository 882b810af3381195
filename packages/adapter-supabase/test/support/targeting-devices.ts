/**
 * Signed-in sessions for the session-targeting suites: a supabase-js client on the stand-in
 * project with its `supabaseTransport` (heartbeat sent), or a started sync client with session
 * targeting over it; plus small helpers to upload bytes and catch a failure.
 */
import { randomUUID } from 'node:crypto';
import {
  type AssetStore,
  createSyncClient,
  memoryStorage,
  type StorageAdapter,
  type SyncClient,
  type SyncError,
  sha256Hex,
  type TransferProgress,
} from '@syncline/sync-core';
import { sessionTargeting } from '@syncline/sync-core/targeting';
import { type SupabaseTransport, supabaseTransport } from '../../src/index.js';
import { signedInClient } from './devices.js';
import type { SupabaseStandIn } from './supabase-standin.js';

/** A signed-in session and the transport over its supabase-js client. */
export interface TargetingSession {
  transport: SupabaseTransport;
  userId: string;
  sessionId: string;
  supabase: Awaited<ReturnType<typeof signedInClient>>['supabase'];
}

/** A signed-in sync client with session targeting, and what it saw. */
export interface TargetingDevice extends TargetingSession {
  client: SyncClient;
  /** Ids of the deliveries its handler ran for, in order. */
  handled: string[];
  /** Failed deliveries and transfers, for failure messages. */
  trouble: string[];
  /** Every transfer event, in order. */
  progress: TransferProgress[];
}

/** How a device starts (`startClient`). */
export interface StartOptions {
  /** Runs on the client before it starts (e.g. to add handlers). */
  setup?: (client: SyncClient) => void;
  /** Pokes over Realtime; the poll then waits ten minutes. */
  realtime?: boolean;
  /** The local storage (pass the same one again to "reload" the page). */
  storage?: StorageAdapter;
  /** The asset store (pass the same one again to "reload" the page). */
  assetStore?: AssetStore;
  /** Bytes per upload request and per store append of a download. */
  assetChunkBytes?: number;
  /** Runs on the transport before the client is built (e.g. to wrap a call). */
  onTransport?: (transport: SupabaseTransport) => void;
}

/** What the factories need: the project, and lists that collect what to stop after the suite. */
export interface TargetingDevicesOptions {
  project: () => SupabaseStandIn;
  transports: SupabaseTransport[];
  clients: SyncClient[];
}

/** Factories of sessions and devices on the stand-in project. */
export function targetingDevices(options: TargetingDevicesOptions) {
  const transportFor = (supabase: TargetingSession['supabase'], realtime = false) => {
    const transport = supabaseTransport({
      client: supabase,
      realtime,
      onRealtimeError: () => undefined,
    });
    options.transports.push(transport);
    return transport;
  };

  /** Signs `email` in on a new device and sends its first heartbeat. */
  async function signIn(email: string, clientId = randomUUID()): Promise<TargetingSession> {
    const signedIn = await signedInClient(options.project(), email);
    const transport = transportFor(signedIn.supabase);
    await transport.sessions.heartbeat({ clientId, sessionId: signedIn.sessionId });
    return { ...signedIn, transport };
  }

  /**
   * Starts a sync client with session targeting for `email` on a new device. Without Realtime
   * (the default), deliveries and transfers are found by the catch-up poll, every 500 ms; with
   * `realtime`, the poll waits ten minutes, so only hints explain a quick arrival.
   */
  async function startDevice(
    email: string,
    setup: (client: SyncClient) => void = () => undefined,
    realtime = false,
  ): Promise<TargetingDevice> {
    return startClient(await signedInClient(options.project(), email), { setup, realtime });
  }

  /** Starts a sync client over a new transport on `signedIn` (a page load of that device). */
  async function startClient(
    signedIn: Awaited<ReturnType<typeof signedInClient>>,
    start: StartOptions = {},
  ): Promise<TargetingDevice> {
    const realtime = start.realtime ?? false;
    const transport = transportFor(signedIn.supabase, realtime);
    start.onTransport?.(transport);
    const client = createSyncClient({
      transport,
      storage: start.storage ?? memoryStorage(),
      ...(start.assetStore === undefined ? {} : { assetStore: start.assetStore }),
      ...(start.assetChunkBytes === undefined ? {} : { assetChunkBytes: start.assetChunkBytes }),
      pullIntervalMs: realtime ? 600_000 : 500,
      retry: { baseDelayMs: 10, maxDelayMs: 50 },
      targeting: sessionTargeting(),
    });
    options.clients.push(client);
    const handled: string[] = [];
    const trouble: string[] = [];
    const progress: TransferProgress[] = [];
    client.on('deliveryFailed', (error) => trouble.push(`deliveryFailed: ${error.message}`));
    client.on('transfer', (t) => {
      progress.push(t);
      if (t.state === 'failed') trouble.push(`transfer failed: ${t.error ?? ''}`);
    });
    client.on('delivery', (event) => {
      handled.push(event.delivery.id);
    });
    start.setup?.(client);
    await client.start();
    return { ...signedIn, transport, client, handled, trouble, progress };
  }

  return { signIn, startDevice, startClient };
}

/** The error `p` rejects with, or `undefined` when it resolves. */
export function failure(p: Promise<unknown>): Promise<SyncError | undefined> {
  return p.then(
    () => undefined,
    (e: unknown) => e as SyncError,
  );
}

/** `size` bytes of a pattern that `seed` varies. */
export function fileOf(size: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: size }, (_, i) => (i * 31 + seed) % 251);
}

/** Uploads `bytes` through the session's asset part in chunks; resolves with their SHA-256. */
export async function uploadBytes(
  who: TargetingSession,
  bytes: Uint8Array,
  chunkBytes = 100_000,
): Promise<string> {
  const sha256 = sha256Hex(bytes);
  const assets = who.transport.assets;
  if (assets === undefined) throw new Error('no asset part');
  for (let at = 0; at < bytes.length; at += chunkBytes) {
    const chunk = bytes.subarray(at, Math.min(bytes.length, at + chunkBytes));
    await assets.uploadChunk({ sha256, offset: at, totalSize: bytes.length, chunk });
  }
  return sha256;
}
