/*
 * A forwarding module, kept only while the replica's files (client/replica.ts, client/settlement.ts,
 * replication/pull-page.ts, replication/push-results.ts and their tests) are being moved by another
 * change of issue 10; delete it once they import from the new place. Nothing else imports it.
 */
export type { ConflictDecision } from '../conflict/types.js';
