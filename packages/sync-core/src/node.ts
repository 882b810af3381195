/**
 * `@syncline/sync-core/node`: Node-only parts (the file storage).
 *
 * @packageDocumentation
 */
export {};
