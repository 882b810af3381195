/** Signed-in supabase-js clients, transports and sync clients on the stand-in project. */
import type { SupabaseClient } from '@supabase/supabase-js';
import {
  type AuthSession,
  type ConflictResolver,
  createSyncClient,
  memoryStorage,
  type OnlineSource,
  type SyncClient,
  type SyncTransport,
} from '@syncline/sync-core';
import { supabaseTransport } from '../../src/index.js';
import type { SupabaseStandIn } from './supabase-standin.js';

let counter = 0;

/** A fresh email, so every test has its own user (and scope). */
export function freshEmail(prefix = 'user'): string {
  return `${prefix}-${Date.now().toString(36)}-${counter++}@example.com`;
}

/** A supabase-js client signed in as `email` (a new auth session: a new device). */
export async function signedInClient(
  project: SupabaseStandIn,
  email: string,
  options: { vsn?: '1.0.0' | '2.0.0'; fetch?: typeof fetch } = {},
): Promise<{ supabase: SupabaseClient; userId: string; sessionId: string }> {
  const supabase = project.createClient(options);
  const { data, error } = await supabase.auth.signInWithPassword({ email, password: 'pw' });
  if (error !== null || data.session === null) throw error ?? new Error('no session');
  const claims = JSON.parse(
    Buffer.from(data.session.access_token.split('.')[1] as string, 'base64url').toString(),
  ) as { session_id: string };
  return { supabase, userId: data.user.id, sessionId: claims.session_id };
}

/** An online source a test switches by hand. */
export function manualOnline(initial = true): OnlineSource & { set(online: boolean): void } {
  let online = initial;
  const listeners = new Set<(online: boolean) => void>();
  return {
    isOnline: () => online,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    set(next) {
      online = next;
      for (const listener of [...listeners]) listener(next);
    },
  };
}

/** A device: a signed-in supabase-js client, the transport over it, and a started sync client. */
export interface Device {
  supabase: SupabaseClient;
  transport: SyncTransport & { stop(): void };
  client: SyncClient;
  userId: string;
  online: ReturnType<typeof manualOnline>;
  /** Number of pull calls (`syncline_pull`, `syncline_tables_pull`) made by this device. */
  pulls(): number;
}

/** Starts a device of `email`; `devices` collects it for cleanup. */
export async function startDevice(
  project: SupabaseStandIn,
  email: string,
  devices: Device[],
  options: {
    conflict?: ConflictResolver;
    online?: boolean;
    vsn?: '1.0.0' | '2.0.0';
    /** The transport over the signed-in client (default: `supabaseTransport`). */
    transport?: (client: SupabaseClient) => SyncTransport & { stop(): void };
    /** The collections `conflict` applies to (default: `todos`). */
    collections?: readonly string[];
    /** The client's scope for a session (default: the client's own, `user:<id>`). */
    scopeFor?: (session: AuthSession) => string;
  } = {},
): Promise<Device> {
  const { supabase, userId } = await signedInClient(
    project,
    email,
    options.vsn === undefined ? {} : { vsn: options.vsn },
  );
  let pulls = 0;
  const rpc = supabase.rpc.bind(supabase);
  const counted = Object.assign(Object.create(supabase) as SupabaseClient, {
    rpc: (fn: string, args?: Record<string, unknown>) => {
      if (fn === 'syncline_pull' || fn === 'syncline_tables_pull') pulls++;
      return rpc(fn as never, args as never);
    },
  });
  const transport =
    options.transport?.(counted) ??
    supabaseTransport({ client: counted, onRealtimeError: () => undefined });
  const conflict = options.conflict;
  const online = manualOnline(options.online ?? true);
  const client = createSyncClient({
    transport,
    storage: memoryStorage(),
    ...(conflict === undefined
      ? {}
      : {
          collections: Object.fromEntries(
            (options.collections ?? ['todos']).map((name) => [name, { conflict }]),
          ),
        }),
    environment: { online },
    ...(options.scopeFor === undefined ? {} : { scopeFor: options.scopeFor }),
    // Long enough that only pokes and (re)subscribe catch-ups explain a quick sync.
    pullIntervalMs: 600_000,
    retry: { baseDelayMs: 10, maxDelayMs: 50 },
  });
  const device: Device = { supabase, transport, client, userId, online, pulls: () => pulls };
  devices.push(device);
  await client.start();
  return device;
}

/** Stops every device. */
export async function stopDevices(devices: Device[]): Promise<void> {
  await Promise.all(
    devices.splice(0).map(async (d) => {
      await d.client.stop();
      d.transport.stop();
    }),
  );
}
