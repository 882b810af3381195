/**
 * `@syncline/sync-core/node`: Node-only parts (the file storage).
 *
 * @packageDocumentation
 */

export type { FileAssetStoreOptions } from './assets/file-asset-store.js';
export { fileAssetStore } from './assets/file-asset-store.js';
export type { FileStorageOptions } from './storage/file.js';
export { fileStorage } from './storage/file.js';
