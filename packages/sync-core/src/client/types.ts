/*
 * A forwarding module, kept only while the replica's files (client/replica.ts, client/settlement.ts,
 * replication/pull-page.ts, replication/push-results.ts and their tests) are being moved by another
 * change of issue 10; delete it once they import from the new place. Nothing else imports it.
 */
export type { ParkedConflict } from '../conflict/types.js';
export type { DeadLetter } from '../replication/dead-letter.js';
export type { InvalidRecord } from '../schema/check-schema.js';
export type { RecordSyncState } from '../status/types.js';
