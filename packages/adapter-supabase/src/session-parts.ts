/**
 * The session-targeting parts of `supabaseTransport`: device sessions, deliveries, assets and
 * transfers over the RPC functions of `sql/0003_syncline_sessions.sql` and
 * `sql/0005_syncline_transfers.sql` (they answer the reference server's JSON shapes, checked by
 * the same protocol validators) and Supabase Storage.
 *
 * Storage objects are removed by the adapter, through Storage (never by deleting rows): the
 * session whose acknowledgement completes a delivery removes its asset at once (so does the
 * session whose revocation, or re-login over an old session, completes some), the sender's
 * status read removes the asset of a delivery that ended otherwise (its last targets signed
 * out in Supabase Auth itself, completed there by the `auth.sessions` trigger, whose `release`
 * hint over Realtime has the owner's online transports run `releaseAssets` at once), and any
 * signed-in device of the sender's user removes what `syncline_releasable_assets` lists
 * (ended deliveries, and uploads never sent) on its pending-deliveries poll.
 *
 * @module
 */
import type {
  AssetTransport,
  DeliveryTransport,
  SessionSource,
  SessionTransport,
  TransferTransport,
} from '@syncline/sync-core';
import {
  validateAckResponse,
  validateDeliveryResponse,
  validateDeliveryStatusResponse,
  validateHeartbeatResponse,
  validatePendingDeliveriesResponse,
  validateSessionListResponse,
} from '@syncline/sync-core/protocol';
import type { SupabaseClientLike, SupabaseStorageLike } from './client-like.js';
import { callSynclineRpc } from './rpc-call.js';
import {
  DEFAULT_ASSET_BUCKET,
  removeObjects,
  type SupabaseAssetOptions,
  storageAssets,
} from './storage-assets.js';
import { supabaseTransfers } from './transfer-part.js';

/** What the parts need. */
export interface SessionPartsOptions {
  client: SupabaseClientLike;
  /** Who is signed in (the transport's session source). */
  session: SessionSource;
  /** Asset options; assets need `client.storage`. */
  assets: SupabaseAssetOptions;
  /** Least milliseconds between two clean-ups of released assets on the pending poll. */
  releaseIntervalMs: number;
  /** Where failed clean-ups are reported. */
  onError: (error: Error) => void;
  /** The clock. */
  now: () => number;
}

/** The parts, plus the clean-up of released assets. */
export interface SessionParts {
  sessions: SessionTransport;
  deliveries: DeliveryTransport;
  assets: AssetTransport | undefined;
  transfers: TransferTransport;
  /** Removes the user's objects that nothing needs any more; the number listed. */
  releaseAssets(signal?: AbortSignal): Promise<number>;
}

/**
 * The object paths a session function answers in `release` (absent from the SQL of earlier
 * versions: nothing to remove); throws `answer` (an invalid answer) for anything else.
 */
function releasedPaths(release: unknown, answer: unknown): string[] {
  if (release === undefined) return [];
  if (!Array.isArray(release) || !release.every((p) => typeof p === 'string')) throw answer;
  return release as string[];
}

/** Builds the parts over `options.client`. */
export function supabaseSessionParts(options: SessionPartsOptions): SessionParts {
  const { client, session, onError } = options;
  const bucket = options.assets.bucket ?? DEFAULT_ASSET_BUCKET;
  const storage: SupabaseStorageLike | undefined = client.storage;
  let lastRelease: number | undefined;

  const rpc = <T>(
    fn: string,
    args: Record<string, unknown>,
    signal: AbortSignal | undefined,
    validate: (data: unknown) => T,
  ): Promise<T> => callSynclineRpc(client, fn, args, signal, validate);

  const releaseAssets = async (signal?: AbortSignal): Promise<number> => {
    lastRelease = options.now();
    const objects = await rpc('syncline_releasable_assets', {}, signal, (data) => {
      const list = (data as { objects?: unknown })?.objects;
      if (!Array.isArray(list) || !list.every((p) => typeof p === 'string')) throw data;
      return list as string[];
    });
    if (storage !== undefined) await removeObjects(storage, bucket, objects, onError);
    return objects.length;
  };

  // Objects a revocation freed (the deliveries that waited only on the revoked sessions
  // completed): removed through Storage, as after an acknowledgement that completes.
  const removeReleased = (paths: string[]): Promise<void> =>
    storage === undefined ? Promise.resolve() : removeObjects(storage, bucket, paths, onError);

  const sessions: SessionTransport = {
    async heartbeat(req, signal) {
      const answer = await rpc(
        'syncline_heartbeat',
        {
          client_id: req.clientId,
          ...(req.label === undefined ? {} : { label: req.label }),
          ...(req.platform === undefined ? {} : { platform: req.platform }),
        },
        signal,
        (data) => {
          const { release, ...rest } = (data ?? {}) as { release?: unknown };
          return { ...validateHeartbeatResponse(rest), release: releasedPaths(release, data) };
        },
      );
      // A re-login replaced this device's old session: what waited only on it completed.
      await removeReleased(answer.release);
      return answer.session;
    },
    list: (signal) =>
      rpc('syncline_sessions', {}, signal, validateSessionListResponse).then((a) => a.sessions),
    async revoke(sessionId, signal) {
      const release = await rpc(
        'syncline_revoke_sessions',
        sessionId === undefined ? {} : { session_id: sessionId },
        signal,
        (data) => releasedPaths((data as { release?: unknown } | null)?.release, data),
      );
      // Before a sign-out below: the token still names this user, the owner of its objects.
      await removeReleased(release);
      // This device's own session ended: supabase-js forgets its tokens (device-only sign-out).
      const own = session.current()?.sessionId;
      if (sessionId === undefined || sessionId === own) {
        await client.auth.signOut?.({ scope: 'local' });
      }
    },
  };

  const deliveries: DeliveryTransport = {
    send: (req, signal) =>
      rpc(
        'syncline_send_delivery',
        {
          id: req.id,
          scope: req.scope,
          kind: req.kind,
          target: req.target,
          ...(req.ttlSeconds === undefined ? {} : { ttl_seconds: req.ttlSeconds }),
          ...(req.payload === undefined ? {} : { payload: req.payload }),
          ...(req.assetHash === undefined ? {} : { asset_hash: req.assetHash }),
        },
        signal,
        (data) =>
          validateDeliveryResponse({ delivery: (data as { delivery?: unknown })?.delivery }),
      ).then((answer) => answer.delivery),
    async pending(signal) {
      const answer = await rpc(
        'syncline_pending_deliveries',
        {},
        signal,
        validatePendingDeliveriesResponse,
      );
      if (lastRelease === undefined || options.now() - lastRelease >= options.releaseIntervalMs) {
        releaseAssets(signal).catch(onError);
      }
      return answer.deliveries;
    },
    async ack(id, signal) {
      const answer = await rpc('syncline_ack_delivery', { id }, signal, (data) => {
        const { complete, release } = (data ?? {}) as { complete?: unknown; release?: unknown };
        if (release !== null && typeof release !== 'string') throw data;
        return { ...validateAckResponse({ complete }), release };
      });
      if (answer.release !== null && storage !== undefined) {
        await removeObjects(storage, bucket, [answer.release], onError);
      }
      return { complete: answer.complete };
    },
    async status(id, signal) {
      const answer = await rpc('syncline_delivery_status', { id }, signal, (data) => {
        const { release, ...rest } = (data ?? {}) as { release?: unknown };
        if (release !== undefined && typeof release !== 'string') throw data;
        return { ...validateDeliveryStatusResponse(rest), release };
      });
      // The delivery ended and nothing needs its object (its last target signed out in
      // Supabase Auth, say): the sender removes it, as an acknowledgement's caller would.
      if (answer.release !== undefined) await removeReleased([answer.release]);
      return { delivery: answer.delivery, status: answer.status };
    },
  };

  return {
    sessions,
    deliveries,
    assets:
      storage === undefined
        ? undefined
        : storageAssets(client, storage, options.assets, {
            userId: () => session.current()?.userId,
            onError,
          }),
    transfers: supabaseTransfers(client, {
      release: (paths) =>
        storage === undefined ? Promise.resolve() : removeObjects(storage, bucket, paths, onError),
    }),
    releaseAssets,
  };
}
