/**
 * Session-targeting hints over Supabase Realtime: one private channel per user
 * (`syncline-user:<user id>`), fed by `syncline.send_hint` (`sql/0003_syncline_sessions.sql`):
 * a `delivery` event when a delivery for the user is created (a plain delivery or a transfer
 * request), a `session` event when the user's sessions change (a new or replaced session, a
 * revocation), a `transfer` event when a transfer changes (`sql/0005_syncline_transfers.sql`), a
 * `release` event when deliveries of the user ended with nobody to hand their objects to (a
 * sign-out in Supabase Auth itself): `onRelease` then removes them. The `realtime.messages` policy lets
 * only that user join it. A hint is only a hint: every (re)join calls `onConnect`, when the
 * client lists what it may have missed, and the client's catch-up poll goes on.
 *
 * @module
 */
import { type SessionEvent, type SessionSource, SyncError } from '@syncline/sync-core';
import type { SupabaseClientLike } from './client-like.js';
import { joinPrivateChannels } from './realtime-pokes.js';

/** The Realtime channel (topic) of a user's hints. */
export function userHintChannelName(userId: string): string {
  return `syncline-user:${userId}`;
}

/** Options of {@link subscribeToUserHints}. */
export interface UserHintSubscription {
  /** The app's Supabase client. */
  client: Pick<SupabaseClientLike, 'realtime' | 'channel' | 'removeChannel'>;
  /** Who is signed in: the channel is the signed-in user's. */
  session: SessionSource;
  /** Called for every hint. */
  listener: (event: SessionEvent) => void;
  /** Called on every successful (re)join: the time to list what may have been missed. */
  onConnect: (() => void) | undefined;
  /** Called when the channel cannot be joined or a hint is malformed. */
  onError: (error: SyncError) => void;
  /** Called on a `release` hint: the user's objects that nothing needs may be removed now. */
  onRelease?: () => void;
}

/** Joins the signed-in user's hint channel; returns the function that leaves it. */
export function subscribeToUserHints(options: UserHintSubscription): () => void {
  return joinPrivateChannels({
    ...options,
    topics: (session) => [userHintChannelName(session.userId)],
    listen(channel, _topic, isStopped) {
      channel.on('broadcast', { event: 'session' }, () => {
        if (!isStopped()) options.listener({ type: 'session' });
      });
      channel.on('broadcast', { event: 'release' }, () => {
        if (!isStopped()) options.onRelease?.();
      });
      for (const type of ['delivery', 'transfer'] as const) {
        channel.on('broadcast', { event: type }, (message) => {
          if (isStopped()) return;
          const id = (message.payload as { id?: unknown } | undefined)?.id;
          if (typeof id !== 'string' || id.length === 0 || id.length > 128) {
            options.onError(new SyncError('server', `a malformed ${type} hint arrived`));
            return;
          }
          options.listener({ type, id });
        });
      }
    },
  });
}
