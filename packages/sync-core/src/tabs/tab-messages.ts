import type { ConflictDecision } from '../client/api.js';
import type { LocalWrite } from '../client/local-writer.js';
import type { SyncErrorKind } from '../errors/sync-error.js';
import type { SyncNowOptions } from '../replication/sync-now.js';
import type { MirroredLists, MirroredRecord, MirroredStatus } from './mirror.js';

/** What a follower asks the leader to do. */
export type TabCall =
  | { kind: 'write'; writes: LocalWrite[]; txId?: string }
  | { kind: 'syncNow'; options: Omit<SyncNowOptions, 'signal'> }
  | { kind: 'retryDeadLetter' | 'discardDeadLetter'; mutationId: string }
  | { kind: 'resolveConflict'; mutationId: string; decision: ConflictDecision };

/** The messages tabs exchange on the app's BroadcastChannel. */
export type TabMessage =
  /** A follower (new, or after a leader change) asks for the whole state. */
  | { t: 'hello'; from: string; ns: string }
  /** The leader's state: whole (`full`) or the records that changed. */
  | {
      t: 'state';
      from: string;
      ns: string;
      full: boolean;
      records: MirroredRecord[];
      lists?: MirroredLists;
      status?: MirroredStatus;
    }
  /** A follower's call, by request id (kept in the leader's storage with a write). */
  | { t: 'call'; from: string; id: string; ns: string; call: TabCall }
  /** The leader's answer to a call. */
  | {
      t: 'reply';
      from: string;
      to: string;
      id: string;
      value?: unknown;
      error?: { kind: SyncErrorKind; message: string; code?: string };
    }
  /** Is the leader alive? Answered by `pong`. */
  | { t: 'ping'; from: string }
  | { t: 'pong'; from: string }
  /** A tab became the leader: followers resend their calls and ask for the state. */
  | { t: 'leader'; from: string };
