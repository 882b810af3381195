/**
 * `@syncline/sync-core/node`: Node-only parts (the file storage).
 *
 * @packageDocumentation
 */
export type { FileStorageOptions } from './storage/file.js';
export { fileStorage } from './storage/file.js';
