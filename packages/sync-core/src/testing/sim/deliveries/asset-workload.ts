/**
 * The asset part of a delivery run's chaos phase: running devices send small assets (up to a
 * few chunks of the run's small chunk size, now and then an empty one, now and then the same
 * bytes again from a device of the same user) through `client.assets.send` to targets of every
 * kind, and outsiders try to download a live asset, which the server must refuse.
 *
 * @module
 */
import { sha256Hex } from '../../../assets/sha256.js';
import { isSyncError } from '../../../errors/sync-error.js';
import type { SimCounters } from '../counters.js';
import type { SimScheduler } from '../scheduler.js';
import type { SimRandom } from '../sim-random.js';
import type { AssetChecks, SentAsset } from './asset-checks.js';
import type { AssetBackend } from './backend.js';
import type { DeliveryModel, DeliveryRule } from './model.js';
import type { DeliveryDevice } from './session-device.js';
import { pickTarget, repeatUntil } from './workload.js';

/** Bytes per upload request (and per store append of a download) in a delivery run. */
export const SIM_ASSET_CHUNK_BYTES = 64;

const encoder = new TextEncoder();

/** Schedules the asset sends and the outsiders' downloads of the chaos phase. */
export function assetWorkload(w: {
  scheduler: SimScheduler;
  random: SimRandom;
  devices: readonly DeliveryDevice[];
  model: DeliveryModel;
  checks: AssetChecks;
  backend: AssetBackend;
  counters: SimCounters;
  chaosMs: number;
  trace: (line: string) => void;
  violate: (rule: DeliveryRule, message: string) => void;
}): void {
  const { scheduler, random, devices, model, checks } = w;
  /** Hashes whose last send settled, by user (ready to be sent again). */
  const settled = new Map<string, SentAsset[]>();
  let sequence = 0;
  const every = (meanMs: number, step: () => void) =>
    repeatUntil({ scheduler, random, endMs: w.chaosMs, meanMs, step });

  every(5000, () => {
    const senders = devices.filter(
      (d) => d.client !== undefined && !model.revoked(d.auth.sessionId),
    );
    if (senders.length === 0) return;
    const sender = random.pick(senders);
    const client = sender.client;
    if (client === undefined) return;
    const userId = sender.auth.userId;
    const ready = settled.get(userId) ?? [];
    let asset: SentAsset;
    if (ready.length > 0 && random.chance(0.15)) {
      // The same bytes again: the server's copy must live until this delivery ends too.
      asset = ready.splice(random.int(ready.length), 1)[0] as SentAsset;
      w.trace(`asset again ${sender.id} ${asset.hash.slice(0, 8)}`);
    } else {
      sequence++;
      const size = random.chance(0.03) ? 0 : 1 + random.int(5 * SIM_ASSET_CHUNK_BYTES);
      const bytes = new Uint8Array(size);
      // A tag makes every asset's bytes (so its hash) its sender's own.
      bytes.set(encoder.encode(`${userId}:${sequence}:`).subarray(0, size));
      for (let i = Math.min(size, 16); i < size; i++) bytes[i] = random.int(256);
      asset = { hash: sha256Hex(bytes), bytes, userId };
      checks.sending(asset);
    }
    const target = pickTarget(random, sender, devices, model);
    const ttl = random.chance(0.65) ? 900 : 15 + random.int(135);
    w.trace(
      `asset send ${sender.id} ${asset.hash.slice(0, 8)} ${asset.bytes.length} B ${target.type} ttl ${ttl}`,
    );
    client.assets.send(asset.bytes, { name: `file-${sequence}`, target, ttl }).then(
      () => settled.set(userId, [...(settled.get(userId) ?? []), asset]),
      (error: unknown) => w.trace(`asset send failed ${sender.id}: ${String(error)}`),
    );
  });

  every(6000, () => {
    const live = [...model.deliveries.values()].filter(
      (d) => d.assetHash !== undefined && !d.complete && !d.expired,
    );
    if (live.length === 0) return;
    const d = random.pick(live);
    const hash = d.assetHash as string;
    const ofHash = [...model.deliveries.values()].filter((x) => x.assetHash === hash);
    const outsiders = devices.filter(
      (device) =>
        model.known(device.auth.sessionId) &&
        !model.revoked(device.auth.sessionId) &&
        !checks.sentBy(hash, device.auth.userId) &&
        !ofHash.some((x) => model.receives(x, device.auth)),
    );
    if (outsiders.length === 0) return;
    const rogue = random.pick(outsiders);
    void scheduler.track(
      (async () => {
        let answer: string;
        try {
          const bytes = await w.backend.download(rogue.auth, { sha256: hash, start: 0 });
          answer = `${bytes.length} bytes`;
        } catch (error) {
          answer = isSyncError(error) && error.status === 404 ? '' : String(error);
        }
        model.serverCalled(); // the read settles the server's deliveries at now
        if (answer !== '') {
          w.violate(
            'asset-leak',
            `${rogue.auth.sessionId}, not a receiver of ${hash.slice(0, 8)}, downloaded it: ${answer}, not 404`,
          );
        }
        w.counters.add('asset.outsider-download-refused');
      })(),
    );
  });
}
