/**
 * `@syncline/adapter-rest`: the `SyncTransport` over HTTP that speaks the syncline protocol
 * (push, pull, Server-Sent Events pokes) to `@syncline/server` or any compatible backend.
 *
 * @packageDocumentation
 */
export type { DevSession, DevSignInOptions } from './dev-sign-in.js';
export { devSignIn } from './dev-sign-in.js';
export type { TokenProvider } from './http/http-client.js';
export type { ReconnectOptions } from './realtime/backoff.js';
export type { ServerSentEvent } from './realtime/event-stream-parser.js';
export { EventStreamParser } from './realtime/event-stream-parser.js';
export type {
  ResourceOptions,
  ResourceTransportOptions,
} from './resource/options.js';
export { resourceTransport } from './resource/resource-transport.js';
export type { RealtimeMode, RestTransport, RestTransportOptions } from './rest-transport.js';
export { restTransport } from './rest-transport.js';
