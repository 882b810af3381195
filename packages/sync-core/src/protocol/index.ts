/**
 * `@syncline/sync-core/protocol`: the wire types and their validation, shared by the server
 * and every adapter.
 *
 * @packageDocumentation
 */
export * from '../errors/sync-error.js';
export { jsonEqual } from '../store/json-equal.js';
export * from './decide-mutation.js';
export { isClientId, isCollection, isRecordId, isScope, isUuid } from './formats.js';
export * from './limits.js';
export * from './server-info.js';
export * from './sessions.js';
export * from './types.js';
export * from './validate.js';
export * from './validate-requests.js';
export * from './validate-sessions.js';
