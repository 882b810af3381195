/**
 * `@syncline/sync-core/testing`: an in-memory protocol server, a fault-injecting transport
 * wrapper and the deterministic simulator, for apps' tests and syncline's own.
 *
 * @packageDocumentation
 */
export {};
