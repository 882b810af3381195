/**
 * `@syncline/server/node`: serving the handler with Node's `http`.
 *
 * @packageDocumentation
 */
export {
  type FetchHandler,
  nodeListener,
  type RunningServer,
  type ServeOptions,
  serve,
} from './node/serve.js';
export { type StartedServer, type StartServerOptions, startServer } from './node/start-server.js';
