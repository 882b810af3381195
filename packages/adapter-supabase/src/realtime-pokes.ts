/**
 * Pokes over Supabase Realtime: one private channel per scope (`syncline:<scope>`), fed by the
 * `syncline_poke` trigger through `realtime.send` (Broadcast from Database). Joining is
 * authorised by the row-level security policy on `realtime.messages`, so the access token must
 * be set before the join: channels are joined once a session exists, after
 * `realtime.setAuth()` has been awaited (a join sent before carries no token, and a private
 * channel refuses it).
 *
 * Every successful (re)join calls `onConnect`, because pokes sent while the socket was down
 * are not replayed: the client pulls to catch up.
 *
 * @module
 */
import {
  type AuthSession,
  type Poke,
  type SessionSource,
  SyncError,
  validatePoke,
} from '@syncline/sync-core';
import type { RealtimeChannelLike, SupabaseClientLike } from './client-like.js';

/** The Realtime channel (topic) of a scope's pokes. */
export function pokeChannelName(scope: string): string {
  return `syncline:${scope}`;
}

/** Options of {@link subscribeToPokes}. */
export interface PokeSubscription {
  /** The app's Supabase client. */
  client: Pick<SupabaseClientLike, 'realtime' | 'channel' | 'removeChannel'>;
  /** The scopes to hear about, one private channel each. */
  scopes: readonly string[];
  /** Called for every poke of one of the scopes. */
  onPoke: (poke: Poke) => void;
  /** Called on every successful (re)join of a channel: the time to pull and catch up. */
  onConnect: (() => void) | undefined;
  /** Called when a channel cannot be joined or a poke is malformed; syncing goes on. */
  onError: (error: SyncError) => void;
  /** Who is signed in: channels are joined only once there is a session. */
  session: SessionSource;
}

/** Joins the scopes' channels; returns the function that leaves them. */
export function subscribeToPokes(options: PokeSubscription): () => void {
  const { onPoke } = options;
  return joinPrivateChannels({
    ...options,
    topics: () => options.scopes.map(pokeChannelName),
    listen(channel, topic, isStopped) {
      const scope = topic.slice('syncline:'.length);
      channel.on('broadcast', { event: 'poke' }, (message) => {
        if (isStopped()) return;
        const payload = message.payload as Record<string, unknown> | undefined;
        let poke: Poke;
        try {
          // realtime.send adds an `id` to the payload; the poke is the rest (its changes, too,
          // when the page fitted: the device then applies them without a pull).
          const { id: _id, ...fields } = payload ?? {};
          poke = validatePoke(fields);
        } catch (error) {
          options.onError(new SyncError('server', 'a malformed poke arrived', { cause: error }));
          return;
        }
        if (poke.scope === scope) onPoke(poke);
      });
    },
  });
}

/** Options of {@link joinPrivateChannels}. */
export interface PrivateChannels {
  /** The app's Supabase client. */
  client: Pick<SupabaseClientLike, 'realtime' | 'channel' | 'removeChannel'>;
  /** Who is signed in: channels are joined only once there is a session. */
  session: SessionSource;
  /** The topics to join for the signed-in session. */
  topics: (session: AuthSession) => readonly string[];
  /** Binds the channel's listeners before it is joined; `isStopped` is true once left. */
  listen: (channel: RealtimeChannelLike, topic: string, isStopped: () => boolean) => void;
  /** Called on every successful (re)join of a channel. */
  onConnect: (() => void) | undefined;
  /** Called when a channel cannot be joined. */
  onError: (error: SyncError) => void;
}

/**
 * Joins private channels once a session exists and `realtime.setAuth()` has taken its token;
 * returns the function that leaves them.
 */
export function joinPrivateChannels(options: PrivateChannels): () => void {
  const { client, onConnect, onError } = options;
  const channels: RealtimeChannelLike[] = [];
  let stopped = false;
  const isStopped = () => stopped;

  const join = (topic: string) => {
    const channel = client.channel(topic, { config: { private: true } });
    options.listen(channel, topic, isStopped);
    channel.subscribe((status, error) => {
      if (stopped) return;
      if (status === 'SUBSCRIBED') onConnect?.();
      else if (status === 'CHANNEL_ERROR' || status === 'TIMED_OUT') {
        onError(
          new SyncError(
            /Unauthorized/i.test(error?.message ?? '') ? 'auth' : 'network',
            `Realtime channel ${topic}: ${error?.message ?? status}`,
            { cause: error },
          ),
        );
      }
    });
    channels.push(channel);
  };

  const start = (session: AuthSession) => {
    void client.realtime.setAuth().then(
      () => {
        if (!stopped) for (const topic of options.topics(session)) join(topic);
      },
      (error: unknown) => {
        onError(
          new SyncError('auth', 'Realtime could not take the access token', { cause: error }),
        );
      },
    );
  };
  // A session still being restored or set has no token yet: a join now would go out with
  // the API key alone and a private channel would refuse it. Wait for the sign-in.
  let unsubscribeSession: (() => void) | undefined;
  const current = options.session.current();
  if (current !== null) start(current);
  else {
    unsubscribeSession = options.session.subscribe((session) => {
      if (session === null || stopped) return;
      unsubscribeSession?.();
      unsubscribeSession = undefined;
      start(session);
    });
  }

  return () => {
    stopped = true;
    unsubscribeSession?.();
    for (const channel of channels.splice(0)) void client.removeChannel(channel);
  };
}
