import type { TransferProgress } from '../assets/progress.js';
import type { DeliveryHandler } from '../deliveries/inbox.js';
import type { ListenedKinds } from '../deliveries/listeners.js';
import type { SyncEnvironment } from '../env/types.js';
import type { Delivery } from '../protocol/types.js';
import type { TargetingServices } from '../sessions/session-targeting.js';
import type { StorageAdapter } from '../storage/types.js';
import type { TabCall, TabMessage } from './tab-messages.js';

/** What the client gives the multi-tab engine for session targeting. */
export interface TargetingParts {
  /** The client's session targeting services (they run in the leader tab). */
  services: TargetingServices;
  /** This tab's `delivery` listeners for a delivery of `kind` (of that kind or every kind). */
  listeners(kind: string): readonly DeliveryHandler[];
  /** The kinds this tab's `delivery` listeners take. */
  listened(): ListenedKinds;
  /** Tells this tab's `deliveryFailed` listeners. */
  deliveryFailed(error: unknown, delivery: Delivery): void;
  /** Tells this tab's `transfer` listeners. */
  transfer(progress: Readonly<TransferProgress>): void;
  /** Subscribes to this tab's own `transfer` events. */
  onTransfer(listener: (progress: Readonly<TransferProgress>) => void): void;
  /** The signed-in session's id, or `null`. */
  sessionId(): string | null;
  /** Device storage (where the inbox marks deliveries handled). */
  storage: StorageAdapter;
  /** Makes ids (of forwarded sends, so a send repeated to a new leader is one send). */
  newId(): string;
}

/** What the targeting part needs from the tab link. */
export interface TargetingLink {
  /** This tab's id. */
  readonly tabId: string;
  /** Timers. */
  readonly env: SyncEnvironment;
  /** A tab silent this long is gone. */
  readonly timeoutMs: number;
  /** `true` while this tab is the serving leader. */
  serving(): boolean;
  /** Posts on the app's channel. */
  post(message: TabMessage): void;
  /** Sends a call to the leader. */
  call(call: TabCall): Promise<unknown>;
}
