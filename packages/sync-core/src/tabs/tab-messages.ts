import type { TransferProgress } from '../assets/progress.js';
import type { ConflictDecision } from '../conflict/types.js';
import type { SyncErrorKind } from '../errors/sync-error.js';
import type { Delivery, SessionInfo } from '../protocol/types.js';
import type { SyncNowOptions } from '../replication/sync-now.js';
import type { LocalWrite } from '../write/local-writer.js';
import type { MirroredLists, MirroredRecord, MirroredStatus } from './mirror.js';

/** What a follower asks the leader to do. */
export type TabCall =
  | { kind: 'write'; writes: LocalWrite[]; txId?: string }
  | { kind: 'syncNow'; options: Omit<SyncNowOptions, 'signal'> }
  | { kind: 'retryDeadLetter' | 'discardDeadLetter'; mutationId: string }
  | { kind: 'resolveConflict'; mutationId: string; decision: ConflictDecision }
  /** A method of `client.sessions`, `client.deliveries` or `client.assets` (see tab-targeting.ts). */
  | { kind: 'api'; api: 'sessions' | 'deliveries' | 'assets'; method: string; args: unknown[] };

/** A delivery handed to a follower's `delivery` listeners, or its outcome. */
export type DeliveryMessage =
  /** The leader asks follower `to` to run its listeners (`session`: where the inbox keeps it). */
  | { t: 'deliver'; from: string; to: string; delivery: Delivery; session: string }
  /** A follower's listeners finished (or acknowledged) a delivery; `error` when they failed. */
  | { t: 'delivered'; from: string; id: string; error?: string }
  /**
   * A follower has `delivery` listeners (`on`): of these `kinds` only, or (without `kinds`) of
   * every kind; and runs these deliveries (`handling`).
   */
  | { t: 'listening'; from: string; on: boolean; kinds?: string[]; handling: string[] };

/** The leader's session-targeting state, mirrored by followers. */
export type TargetingMessage = {
  t: 'targeting';
  from: string;
  /** This session as the server last answered it (sent whole with each message). */
  current: SessionInfo | null;
  /** The session list, when a `change` carried one. */
  sessions?: readonly SessionInfo[];
  /** Transfers that moved (all of them after a `hello`). */
  transfers?: readonly TransferProgress[];
  /** Whether `transfers` is the whole list. */
  full?: boolean;
  /** Whether a `change` event is to be emitted. */
  change?: boolean;
};

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
  | { t: 'leader'; from: string }
  | DeliveryMessage
  | TargetingMessage;
