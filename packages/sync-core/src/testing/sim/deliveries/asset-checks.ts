/**
 * The asset rules of a delivery run, judged from what the apps sent, what the devices asked and
 * got over the network, what the server answered and what the blob store holds:
 *
 * - a handler is handed an asset delivery only once the bytes are in the asset store whole, and
 *   they hash to the sent SHA-256 (a corrupted download is caught and fetched again);
 * - the server hands the bytes only to the sender's user and the receivers of a live delivery
 *   of them (never to anyone else: the delivery checks make sure the sender's session never
 *   handles its own);
 * - an upload continues from the offset the server said it holds (after a crash too);
 * - the blob is in the blob store while a live delivery references it, and gone once every such
 *   delivery completed or expired and the sweeper ran.
 *
 * "Exactly once, none lost" for the asset deliveries is the delivery model's own rule.
 *
 * @module
 */
import { sha256Hex } from '../../../assets/sha256.js';
import type { DeliveryStatus } from '../../../protocol/sessions.js';
import type { Delivery } from '../../../protocol/types.js';
import type { AssetProbe, AuthSession } from '../../../transport/types.js';
import type { SimCounters } from '../counters.js';
import type { AssetBackend } from './backend.js';
import type { DeviceCall, HandledCall } from './link.js';
import type { DeliveryModel, DeliveryRule, ModelDelivery } from './model.js';

/** An asset an app handed to `client.assets.send`. */
export interface SentAsset {
  hash: string;
  bytes: Uint8Array;
  /** The sender's user. */
  userId: string;
}

/** Every send of one hash (the empty asset is everyone's). */
interface SentHash {
  bytes: Uint8Array;
  /** The users who sent it: each holds a copy of their own. */
  userIds: Set<string>;
}

type UploadBody = { sha256: string; offset: number; totalSize: number };
type DownloadBody = { sha256: string; start: number; end?: number };

/** See the module comment. */
export class AssetChecks {
  readonly #model: DeliveryModel;
  readonly #counters: SimCounters;
  readonly #violate: (rule: DeliveryRule, message: string) => void;
  readonly #now: () => number;
  /** Sent assets by hash. */
  readonly #sent = new Map<string, SentHash>();
  /** `life|hash` → the offset of the last probe answer, until the next chunk is sent. */
  readonly #probed = new Map<string, number>();
  /** `user|hash` → the life that sent the latest chunk. */
  readonly #lastUploader = new Map<string, { deviceId: string; life: string }>();
  /** `life|hash` of the downloads each life started. */
  readonly #downloading = new Set<string>();
  /** `session|hash` that got corrupted bytes. */
  readonly #corrupted = new Set<string>();

  constructor(options: {
    model: DeliveryModel;
    counters: SimCounters;
    violate(rule: DeliveryRule, message: string): void;
    /** The server's clock (epoch ms). */
    now(): number;
  }) {
    this.#model = options.model;
    this.#counters = options.counters;
    this.#violate = options.violate;
    this.#now = options.now;
  }

  /** An app is about to send `bytes`. */
  sending(asset: SentAsset): void {
    const known = this.#sent.get(asset.hash);
    if (known === undefined) {
      this.#sent.set(asset.hash, { bytes: asset.bytes, userIds: new Set([asset.userId]) });
    } else known.userIds.add(asset.userId);
    this.#counters.add('asset.sent');
  }

  /** `true` once `userId` sent `hash` (their own copy is theirs to read). */
  sentBy(hash: string, userId: string): boolean {
    return this.#sent.get(hash)?.userIds.has(userId) ?? false;
  }

  /** A device made a request. */
  issued(call: DeviceCall): void {
    const life = `${call.deviceId}#${call.life.generation}`;
    if (call.kind === 'asset-probe') {
      this.#probed.delete(`${life}|${call.body as string}`);
    } else if (call.kind === 'asset-upload') {
      const body = call.body as UploadBody;
      this.#uploadIssued(call, life, body);
    } else if (call.kind === 'asset-download') {
      const body = call.body as DownloadBody;
      const key = `${life}|${body.sha256}`;
      if (this.#downloading.has(key)) {
        if (body.start === 0 && this.#corrupted.has(`${call.auth.sessionId}|${body.sha256}`)) {
          this.#counters.add('asset.download-refetched');
        }
        return;
      }
      this.#downloading.add(key);
      // A life's first request starts past 0 only where the store kept an earlier life's bytes.
      if (body.start > 0) this.#counters.add('asset.download-resumed');
    }
  }

  #uploadIssued(call: DeviceCall, life: string, body: UploadBody): void {
    const key = `${life}|${body.sha256}`;
    const probed = this.#probed.get(key);
    this.#probed.delete(key);
    const uploaderKey = `${call.auth.userId}|${body.sha256}`;
    const previous = this.#lastUploader.get(uploaderKey);
    this.#lastUploader.set(uploaderKey, { deviceId: call.deviceId, life });
    if (probed === undefined) return;
    if (body.offset !== probed) {
      this.#violate(
        'upload-not-resumed',
        `${call.deviceId} sent ${body.sha256.slice(0, 8)} from ${body.offset} after the server said it holds ${probed}`,
      );
      return;
    }
    if (probed === 0) return;
    this.#counters.add('asset.upload-resumed');
    if (previous !== undefined && previous.deviceId === call.deviceId && previous.life !== life) {
      this.#counters.add('asset.upload-resumed-after-crash');
    }
    if (this.#live(body.sha256).length === 0 && this.#deliveriesOf(body.sha256).length > 0) {
      this.#counters.add('asset.upload-after-delivery-ended');
    }
  }

  /** An answer reached the device. */
  answered(call: DeviceCall, value: unknown): void {
    if (call.kind !== 'asset-probe') return;
    const probe = value as AssetProbe;
    const key = `${call.deviceId}#${call.life.generation}|${call.body as string}`;
    if (probe.complete) this.#probed.delete(key);
    else this.#probed.set(key, probe.offset);
  }

  /** The link corrupted a download's answer to the device. */
  corrupted(call: DeviceCall): void {
    this.#corrupted.add(`${call.auth.sessionId}|${(call.body as DownloadBody).sha256}`);
  }

  /** The server handled a call: it may hand bytes only to a party of a live delivery. */
  handled(call: HandledCall): void {
    if (call.kind !== 'asset-download' || !call.outcome.ok) return;
    const hash = (call.body as DownloadBody).sha256;
    if (this.sentBy(hash, call.auth.userId)) return; // the sender's own copy
    if (this.#live(hash).some((d) => this.#model.receives(d, call.auth))) return;
    this.#violate(
      'asset-leak',
      `${call.auth.sessionId} downloaded ${hash.slice(0, 8)}, though it receives no live delivery of it`,
    );
  }

  /** A handler is about to run for `delivery`; `bytes` is what the asset store holds. */
  handedOver(auth: AuthSession, delivery: Delivery, bytes: Uint8Array | undefined): void {
    const hash = delivery.assetHash;
    if (hash === undefined) return;
    const sent = this.#sent.get(hash);
    if (sent === undefined) {
      this.#violate('asset-bytes', `${delivery.id} names ${hash.slice(0, 8)}, which no app sent`);
      return;
    }
    if (bytes === undefined) {
      this.#violate(
        'asset-bytes',
        `${auth.sessionId}'s handler got ${delivery.id} before its bytes were stored`,
      );
      return;
    }
    if (bytes.length !== sent.bytes.length || sha256Hex(bytes) !== hash) {
      this.#violate(
        'asset-bytes',
        `${auth.sessionId}'s handler got ${bytes.length} bytes of ${hash.slice(0, 8)} (sent ${sent.bytes.length}) that do not hash to it`,
      );
      return;
    }
    this.#counters.add('asset.handed-over');
    if (this.#corrupted.has(`${auth.sessionId}|${hash}`)) {
      this.#counters.add('asset.corruption-recovered');
    }
  }

  /** One audit of `d` (the server's status at now): a live delivery's blob is held whole. */
  async audit(
    backend: AssetBackend,
    d: ModelDelivery,
    status: DeliveryStatus | undefined,
  ): Promise<void> {
    if (d.assetHash === undefined || status === undefined) return;
    const held = await backend.held(d.senderUserId, d.assetHash);
    if (!status.complete && !status.expired) {
      if (held === 'complete') this.#counters.add('asset.blob-held-while-live');
      else {
        this.#violate(
          'blob-missing',
          `${d.id} is live but the blob store holds ${held ?? 'nothing'} of ${d.assetHash.slice(0, 8)}`,
        );
      }
    } else if (held === undefined) this.#counters.add('asset.blob-deleted');
  }

  /** After every delivery ended and the sweeper ran: no blob of any sent asset is left. */
  async final(backend: AssetBackend): Promise<void> {
    for (const [hash, sent] of this.#sent) {
      for (const userId of sent.userIds) {
        const held = await backend.held(userId, hash);
        if (held !== undefined) {
          this.#violate(
            'blob-leaked',
            `the blob store still holds ${held} ${hash.slice(0, 8)} of ${userId} after every delivery of it ended and the sweeper ran`,
          );
        }
      }
    }
  }

  /** The deliveries of `hash` the server took. */
  #deliveriesOf(hash: string): ModelDelivery[] {
    return [...this.#model.deliveries.values()].filter((d) => d.assetHash === hash);
  }

  /** The deliveries of `hash` that may still be live (the model learns of an end late). */
  #live(hash: string): ModelDelivery[] {
    const now = this.#now();
    return this.#deliveriesOf(hash).filter((d) => !d.complete && !d.expired && now < d.expiresAt);
  }
}
