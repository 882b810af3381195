/**
 * The main entry as a browser build resolves it (the `browser` export condition): everything
 * `index.ts` exports, with a `createSyncClient` whose default storage is IndexedDB only (see
 * `client/create-sync-client.browser.ts`) and a `createEnvironment` without Node's paths (see
 * `env/environment.browser.ts`).
 *
 * @module
 */

export { createSyncClient } from './client/create-sync-client.browser.js';
export { createEnvironment } from './env/environment.browser.js';
export * from './index.js';
