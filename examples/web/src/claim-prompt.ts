/**
 * The "claim local data?" question, asked by the client's `claimLocalData` callback and answered
 * by the UI: a tiny store the dialog reads with `useSyncExternalStore`.
 */
import type { LocalDataClaim } from '@syncline/sync-core';

/** A question waiting for the user. */
export interface PendingClaim {
  /** What the client shows: the user and the records written while signed out. */
  claim: LocalDataClaim;
  /** Answers it: `true` adds the records to the user's account. */
  answer(claim: boolean): void;
}

/** The store behind the claim dialog. */
export interface ClaimPrompt {
  /** The `claimLocalData` option of `createSyncClient`. */
  ask(claim: LocalDataClaim): Promise<boolean>;
  /** The question now open, or `null`. */
  current(): PendingClaim | null;
  /** Calls `listener` when the open question changes. */
  subscribe(listener: () => void): () => void;
}

/** Creates the claim prompt store. */
export function createClaimPrompt(): ClaimPrompt {
  let open: PendingClaim | null = null;
  const listeners = new Set<() => void>();
  const publish = (next: PendingClaim | null) => {
    open = next;
    for (const listener of [...listeners]) listener();
  };
  return {
    ask(claim) {
      return new Promise<boolean>((resolve) => {
        publish({
          claim,
          answer: (yes) => {
            publish(null);
            resolve(yes);
          },
        });
      });
    },
    current: () => open,
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}
