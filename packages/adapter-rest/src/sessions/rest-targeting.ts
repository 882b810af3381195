import type { ServerInfo, SyncTransport } from '@syncline/sync-core';
import type { HttpClient } from '../http/http-client.js';
import type { RestSubscribeOptions } from '../realtime/event-stream-subscription.js';
import { nodeHttpAvailable } from './node-download.js';
import { SessionEventHub, type SessionPartsOptions, sessionParts } from './session-parts.js';
import { globalFetchIsNodes } from './upload-body.js';

/**
 * The session-targeting parts of `restTransport`, made by {@link restTargeting} and passed as
 * `restTransport({ targeting })`.
 */
export interface RestTargeting {
  /**
   * Adds the session endpoints to `transport` over its HTTP client, and `sessionEvents`, fed by
   * its `subscribe` (wrapped to pass on the event stream's session, delivery and transfer hints
   * and every (re)connection). It keeps the transport's latest `info()` answer (or the one on
   * its way), which the asset part reads the server's features from; `transportOptions` are the
   * transport's options.
   * @internal
   */
  attach(
    transport: SyncTransport,
    http: HttpClient,
    transportOptions: { fetch?: typeof globalThis.fetch; streamUploads?: boolean },
  ): void;
}

/** Options of {@link restTargeting}. */
export interface RestTargetingOptions {
  /**
   * Downloads asset bytes with Node's own `http`/`https` rather than `fetch`: Node's fetch
   * (undici) copies every piece of a response body once more and parses it in WebAssembly,
   * about a third of a download's CPU. Everything else (the token and its refresh, the
   * timeout, the errors) is as with `fetch`; a redirect is handed to `fetch`, which follows
   * it. Set `false` when Node's fetch must carry the downloads, e.g. an app that routes it
   * through undici's `setGlobalDispatcher` (a proxy, custom TLS): `node:http` does not see
   * that dispatcher.
   * @default true when `restTransport`'s `fetch` is left to the global one and that is Node's
   * (undici) with `process.getBuiltinModule`; else false (browsers, an app's own `fetch`)
   */
  nodeDownloads?: boolean;
}

/**
 * Lets `restTransport` speak the session-targeting endpoints (SESSIONS-WIRE), for a client
 * created with `sessionTargeting()` from `@syncline/sync-core/targeting`.
 *
 * @param options - see {@link RestTargetingOptions}
 * @example
 * ```ts
 * import { restTransport } from '@syncline/adapter-rest';
 * import { restTargeting } from '@syncline/adapter-rest/targeting';
 *
 * const transport = restTransport({ baseUrl, getToken, session, targeting: restTargeting() });
 * ```
 */
export function restTargeting(options: RestTargetingOptions = {}): RestTargeting {
  return {
    attach: (transport, http, transportOptions) => {
      const { fetch } = transportOptions;
      const appFetch = fetch !== undefined;
      const nodeDownloads =
        options.nodeDownloads ?? (!appFetch && globalFetchIsNodes() && nodeHttpAvailable());
      // Left to the platform (Node's own fetch: streams) unless the app's own fetch is used.
      const streamUploads = transportOptions.streamUploads ?? (appFetch ? false : undefined);
      // The latest info answer (or the one on its way), kept as the client asks for it.
      const info = transport.info as NonNullable<SyncTransport['info']>;
      let lastInfo: Promise<ServerInfo> | undefined;
      const askInfo = (signal?: AbortSignal): Promise<ServerInfo> => {
        lastInfo = info(signal);
        return lastInfo;
      };
      transport.info = askInfo;
      // The latest answer, else (none yet, or it failed) the transport asks again.
      const serverInfo = async (signal?: AbortSignal): Promise<ServerInfo> =>
        (await lastInfo?.catch(() => undefined)) ?? askInfo(signal);
      attachTargeting(transport, http, { fetch, nodeDownloads, streamUploads, serverInfo });
    },
  };
}

function attachTargeting(
  transport: SyncTransport,
  http: HttpClient,
  options: SessionPartsOptions,
): void {
  Object.assign(transport, sessionParts(http, options));
  const hub = new SessionEventHub();
  transport.sessionEvents = (listener, onConnect) => hub.add(listener, onConnect);
  // The hub hears what the transport's subscription hears (none without realtime).
  const subscribe = transport.subscribe as
    | ((options: RestSubscribeOptions) => () => void)
    | undefined;
  if (subscribe === undefined) return;
  transport.subscribe = (subscription) =>
    subscribe({
      ...subscription,
      onOtherEvent: (event) => hub.event(event),
      onConnect: () => {
        subscription.onConnect?.();
        hub.connected();
      },
    });
}
