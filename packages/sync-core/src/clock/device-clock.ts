import { DEVICE_NAMESPACE } from '../ids/client-id.js';
import { ownHlcs } from '../replica/load.js';
import type { StorageAdapter } from '../storage/types.js';
import { type HybridLogicalClock, isHlc } from './hlc.js';

/** Device-namespace key listing every data namespace this installation has written. */
const NAMESPACES_KEY = 'namespaces';

/**
 * The HLC belongs to the installation, but its history is persisted per data namespace (in the
 * outbox entries and `m/hlc` of each user's namespace). A device that wrote as user A and
 * restarts as user B (a sign-in while it was down, a tab handover) must still resume after A's
 * writes, or its clock would go back. So the device namespace lists the data namespaces in use,
 * and on start the clock resumes after the latest own HLC found in any of them.
 */
export class DeviceClockHistory {
  readonly #storage: StorageAdapter;
  #known: Set<string> | null = null;

  /** @param storage - the client's storage */
  constructor(storage: StorageAdapter) {
    this.#storage = storage;
  }

  /** Restores `clock` from every namespace the device used. */
  async restore(clock: HybridLogicalClock): Promise<void> {
    const known = await this.#load();
    for (const namespace of known) {
      // A damaged timestamp in storage must not keep the client from starting: it is skipped
      // (`restore` throws for nothing else).
      for (const hlc of await ownHlcs(this.#storage, namespace)) {
        if (isHlc(hlc)) clock.restore(hlc);
      }
    }
  }

  /** Records that the device uses `namespace` (one device write the first time only). */
  async remember(namespace: string): Promise<void> {
    const known = await this.#load();
    if (known.has(namespace)) return;
    known.add(namespace);
    await this.#storage.write(DEVICE_NAMESPACE, [
      { type: 'set', key: NAMESPACES_KEY, value: [...known] },
    ]);
  }

  async #load(): Promise<Set<string>> {
    if (this.#known === null) {
      const stored = await this.#storage.get(DEVICE_NAMESPACE, NAMESPACES_KEY);
      const names = Array.isArray(stored) ? stored.filter((n) => typeof n === 'string') : [];
      this.#known ??= new Set(names as string[]);
    }
    return this.#known;
  }
}
