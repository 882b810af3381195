import type { ClientDeliveries } from '../deliveries/client-deliveries.js';
import type { SyncEnvironment } from '../env/types.js';
import { appCallbackError } from '../errors/as-sync-error.js';
import { isSyncError, SyncError } from '../errors/sync-error.js';
import type { IdGenerator } from '../ids/uuid-v7.js';
import {
  TRANSFER_REQUEST_KIND,
  type Transfer,
  type TransferRequestPayload,
} from '../protocol/sessions.js';
import type { Delivery } from '../protocol/types.js';
import { type SignedInContext, transportLacks } from '../sessions/client-sessions.js';
import type { SessionPart } from '../sessions/session-services.js';
import type { StorageAdapter } from '../storage/types.js';
import type { SyncTransport } from '../transport/types.js';
import { AssetSendLog, type PendingAssetSend } from './asset-sends.js';
import type { AssetStore } from './asset-store.js';
import {
  ASSET_DELIVERY_KIND,
  type AssetFile,
  type AssetProvider,
  type AssetsApi,
  type RequestAssetOptions,
  type SendAssetOptions,
} from './assets-api.js';
import { ProgressTracker, type TransferProgress } from './progress.js';
import { importForSend } from './send-import.js';
import {
  type AssetSource,
  checkSource,
  DOWNLOAD_ATTEMPTS,
  downloadAsset,
  importAsset,
  uploadAsset,
  writeAsset,
} from './transfer-io.js';
import type { TransferRun } from './transfer-run.js';
import { hasUploadsById, uploadById } from './upload-by-id.js';
import { type CommittingAsset, WrittenBytes } from './upload-chunks.js';

/** Options of {@link ClientAssets}. */
export interface ClientAssetsOptions {
  /** Injected time. */
  env: SyncEnvironment;
  /** The transport. */
  transport: SyncTransport;
  /** The local asset store. */
  store: AssetStore;
  /** Makes ids. */
  newId: IdGenerator;
  /** Sends the asset deliveries. */
  deliveries: ClientDeliveries;
  /** Bytes per upload request (and per store append of a download). */
  chunkBytes: number;
  /** Upload requests in flight at once. */
  uploadWindow: number;
  /** Publishes a progress snapshot (the client's `transfer` event). */
  publish(progress: Readonly<TransferProgress>): void;
  /** Where unfinished sends are kept across reloads (device storage). */
  storage: StorageAdapter;
}

/** See {@link AssetsApi}; also the session part that serves requests and finishes downloads. */
export class ClientAssets implements AssetsApi, SessionPart {
  readonly #options: ClientAssetsOptions;
  #context: SignedInContext | null = null;
  #provider: AssetProvider | null = null;
  readonly #trackers = new Map<string, ProgressTracker>();
  #list: readonly TransferProgress[] = Object.freeze([]);
  readonly #downloading = new Set<string>();
  #checking: Promise<void> | null = null;
  #checkAgain = false;
  readonly #sendLog: AssetSendLog;
  /** Ids of the sends running in this client (a resume never runs one twice). */
  readonly #sending = new Set<string>();
  /** The download running for each hash: one at a time, as they share the store's partial. */
  readonly #fetching = new Map<string, Promise<void>>();

  constructor(options: ClientAssetsOptions) {
    this.#options = options;
    this.#sendLog = new AssetSendLog(options.storage);
  }

  signedIn(context: SignedInContext): void {
    this.#context = context;
    void this.#checkTransfers();
    void this.#resumeSends(context);
  }

  signedOut(): void {
    this.#context = null;
  }

  transferChanged(): void {
    void this.#checkTransfers();
  }

  reconnected(): void {
    void this.#checkTransfers();
  }

  /**
   * The inbox's handler of {@link TRANSFER_REQUEST_KIND}: serves it when this device can.
   * Resolves `false` (the request stays for a later catch-up, or another session of the
   * holder) when neither the store nor the provider has the asset; a provider that throws
   * rejects with an `app` SyncError, offered again likewise. A provider whose bytes keep
   * failing to hash to the asset fails the transfer (reported to the server, so the requester
   * sees it too) and resolves `true`: the transfer is final, the request is acknowledged.
   */
  readonly serveRequest = async (delivery: Delivery, signal: AbortSignal): Promise<boolean> => {
    const payload = delivery.payload as unknown as TransferRequestPayload;
    const hash = payload.assetHash;
    const store = this.#options.store;
    if ((await store.stat(hash)) === undefined) {
      const provided = await this.#provide(hash, pickMeta(payload)).catch((error: unknown) => {
        if (isSyncError(error) && error.code === 'hash_mismatch') return error;
        throw error;
      });
      if (provided === false) return false; // another device of the holder may serve it
      if (provided !== true) {
        await this.#failServing(this.#require(), payload, provided.message, signal);
        return true;
      }
    }
    const context = this.#require();
    const size = (await store.stat(hash))?.size ?? 0;
    const tracker = this.#track(payload.transferId, hash, 'upload', payload.name, size);
    await uploadAsset(this.#run(context, tracker, signal), hash);
    const transfers = this.#options.transport.transfers;
    if (transfers !== undefined) {
      // The upload moves the transfer on by itself; an asset the server already held does not.
      const gone = await context.retryer
        .run(
          () =>
            transfers.progress(
              { id: payload.transferId, side: 'upload', bytesDone: size, state: 'in_progress' },
              signal,
            ),
          signal,
        )
        .then(
          () => false,
          (error: unknown) => {
            const code = isSyncError(error) ? error.code : undefined;
            // Already completed (or failed) by the requester: nothing left to serve.
            if (code === 'transfer_final') return false;
            // Unknown to the server now (purged): final for this transfer, never retried.
            if (code === 'not_found') return true;
            throw error;
          },
        );
      if (gone) {
        tracker.settle('failed', `The transfer ${payload.transferId} is gone from the server`);
        return true;
      }
    }
    tracker.settle('completed');
    return true;
  };

  /**
   * Stores the bytes of asset `hash` from the app's provider; `false` when there is no provider
   * or it has none. Bytes that do not hash to `hash` are dropped (never committed) and asked
   * for again, as a download's are fetched again, up to {@link DOWNLOAD_ATTEMPTS} times.
   * @throws SyncError `rejected`, code `hash_mismatch`, when every attempt gave other bytes;
   *   `app` (the provider's error as `cause`) when the provider throws
   */
  async #provide(hash: string, meta: ReturnType<typeof pickMeta>): Promise<boolean> {
    const provider = this.#provider;
    if (provider === null) return false;
    const store = this.#options.store;
    const key = `provide-${hash}`;
    let gave = '';
    for (let attempt = 1; attempt <= DOWNLOAD_ATTEMPTS; attempt++) {
      let source: AssetSource | undefined;
      try {
        source = await provider(hash);
      } catch (error) {
        throw appCallbackError(error);
      }
      if (source === undefined) return false;
      const { hash: written, size } = await writeAsset({
        store,
        source,
        key,
        meta,
        chunkBytes: this.#options.chunkBytes,
      });
      if (written === hash) {
        await store.commit(key, hash, { ...meta, size });
        return true;
      }
      await store.discardPartial(key);
      gave = written;
    }
    throw new SyncError(
      'rejected',
      `The provider gave other bytes than asset ${hash} in ${DOWNLOAD_ATTEMPTS} attempts (their SHA-256: ${gave})`,
      { code: 'hash_mismatch' },
    );
  }

  /**
   * Holder side: reports a transfer this device cannot serve as `failed` with `message`, which
   * the requester's `transfers()` and `transfer` event then show, and shows it in this
   * client's too. A transfer already final (completed, failed or expired) is left as it is.
   */
  async #failServing(
    context: SignedInContext,
    payload: TransferRequestPayload,
    message: string,
    signal: AbortSignal,
  ): Promise<void> {
    const transfers = this.#options.transport.transfers;
    const tracker = this.#track(
      payload.transferId,
      payload.assetHash,
      'upload',
      payload.name,
      payload.size ?? 0,
    );
    if (transfers !== undefined) {
      const body = {
        id: payload.transferId,
        side: 'upload' as const,
        bytesDone: 0,
        state: 'failed' as const,
        error: message.slice(0, 1024),
      };
      await context.retryer
        .run(() => transfers.progress(body, signal), signal)
        .catch((error: unknown) => {
          if (!(isSyncError(error) && error.code === 'transfer_final')) throw error;
        });
    }
    tracker.settle('failed', message);
  }

  /** The inbox's preparation: a delivery's asset is fetched and verified before its handler. */
  readonly prepareDelivery = async (delivery: Delivery, signal: AbortSignal): Promise<boolean> => {
    const hash = delivery.assetHash;
    if (hash === undefined) return true;
    if ((await this.#options.store.stat(hash)) !== undefined) return true;
    const context = this.#require();
    const meta = pickMeta((delivery.payload ?? {}) as Record<string, unknown>);
    const tracker = this.#track(delivery.id, hash, 'download', meta.name, meta.size ?? 0);
    try {
      await this.#download(this.#run(context, tracker, signal), hash, meta);
      tracker.settle('completed');
    } catch (error) {
      if (!signal.aborted) tracker.settle('failed', String(error));
      throw error;
    }
    return true;
  };

  async send(
    source: AssetSource,
    options: SendAssetOptions = {},
  ): Promise<{ hash: string; size: number; delivery: Delivery }> {
    checkSource(source);
    const context = this.#require();
    const store = this.#options.store;
    const key = `import-${this.#options.newId()}`;
    const meta = pickMeta(options);
    if (!(source instanceof Uint8Array) && (await this.#uploadsById(context.signal))) {
      return this.#sendById(context, source, options, key);
    }
    const { hash, size, written, progress } = await importForSend({
      store,
      source,
      key,
      meta,
      chunkBytes: this.#options.chunkBytes,
    });
    const pending = pendingSend(options.id ?? this.#options.newId(), context, hash, size, options);
    // The upload starts from the partial while the bytes are written (a source read again) or
    // while the commit (a file store's sync) and the send intent are: a reload once the intent
    // is durable continues the send; one before loses it, as a reload while the bytes are
    // being written does.
    const committed = (async () => {
      await written;
      await store.commit(key, hash, { ...meta, size });
      await this.#sendLog.record(pending);
    })();
    committed.catch(() => undefined); // awaited by #runSend
    const committing: CommittingAsset = {
      key,
      size,
      committed,
      ...(progress === undefined ? {} : { written: progress }),
    };
    const delivery = await this.#runSend(
      context,
      pending,
      (run) => uploadAsset(run, hash, committing),
      committed,
    );
    return { hash, size, delivery };
  }

  /**
   * The server takes uploads by id (asked for a stream or a Blob; bytes in memory are hashed
   * first, see `importForSend`).
   */
  async #uploadsById(signal: AbortSignal): Promise<boolean> {
    const transport = this.#options.transport.assets;
    if (!hasUploadsById(transport)) return false;
    try {
      return await transport.uploadsById(signal);
    } catch {
      return false; // asked again at the next send; this one is addressed by its hash
    }
  }

  /**
   * A send of a stream or a Blob to a server that takes uploads by id: one read of the source
   * hashes it, writes it to the store's partial, and feeds the upload, each chunk going up
   * once written; the last chunk names the hash. The commit and the send intent (which
   * records the upload id, so a reload continues the same upload) follow the last byte
   * written, as for bytes in memory; the delivery waits for both.
   */
  async #sendById(
    context: SignedInContext,
    source: Blob | ReadableStream<Uint8Array>,
    options: SendAssetOptions,
    key: string,
  ): Promise<{ hash: string; size: number; delivery: Delivery }> {
    const store = this.#options.store;
    const meta = pickMeta(options);
    const id = options.id ?? this.#options.newId();
    const uploadId = this.#options.newId();
    const written = new WrittenBytes();
    const imported = writeAsset({
      store,
      source,
      key,
      meta,
      chunkBytes: this.#options.chunkBytes,
      onWritten: (end) => written.advance(end),
      flushBehind: true, // the delivery waits for the commit: little left to sync there
    });
    // Registered first: no upload read goes on waiting once the write failed.
    imported.catch((error: unknown) => written.fail(error));
    const pending = imported.then(({ hash, size }) => ({
      ...pendingSend(id, context, hash, size, options),
      uploadId,
    }));
    const committed = (async () => {
      const send = await pending;
      await store.commit(key, send.hash, { ...meta, size: send.size });
      await this.#sendLog.record(send);
    })();
    committed.catch(() => undefined); // awaited by #runSend
    const size = typeof Blob !== 'undefined' && source instanceof Blob ? source.size : undefined;
    const delivery = await this.#runSend(
      context,
      pending,
      (run) =>
        uploadById(run, {
          uploadId,
          key,
          written,
          done: imported,
          committed,
          ...(size === undefined ? {} : { size }),
        }),
      committed,
      id,
    );
    const { hash, size: total } = await imported;
    return { hash, size: total, delivery };
  }

  /**
   * Uploads a pending send's bytes (`upload`) and creates its delivery. The record goes when
   * the delivery exists or the send fails for good; a send stopped by sign-out or `stop()`
   * keeps it. With `committed`, the bytes are still being written or committed and the intent
   * recorded: the delivery, and the send's failure too, wait until both are (or failed). A
   * send whose hash is not known yet (an upload by id) gives `pending` as a promise, and its
   * progress is published once the hash is known.
   */
  async #runSend(
    context: SignedInContext,
    pending: PendingAssetSend | Promise<PendingAssetSend>,
    upload: (run: TransferRun) => Promise<void>,
    committed?: Promise<unknown>,
    id: string = (pending as PendingAssetSend).id,
  ): Promise<Delivery> {
    this.#sending.add(id);
    let known: PendingAssetSend | undefined;
    let tracker: ProgressTracker | undefined;
    let bytesDone = 0;
    const track = (send: PendingAssetSend) => {
      known = send;
      tracker = this.#track(send.id, send.hash, 'upload', send.name, send.size);
      if (bytesDone > 0) tracker.advance(bytesDone, send.size);
      return send;
    };
    const sending = pending instanceof Promise ? pending.then(track) : track(pending);
    if (sending instanceof Promise) sending.catch(() => undefined); // awaited below
    try {
      const run = this.#run(
        context,
        {
          advance: (done, total) => {
            bytesDone = done;
            tracker?.advance(done, total);
          },
        },
        context.signal,
      );
      const uploaded = await upload(run).then(
        () => undefined,
        (error: unknown) => ({ error }),
      );
      // Writing or committing the bytes that failed fails the send, before the upload's error.
      await committed;
      if (uploaded !== undefined) throw uploaded.error;
      const send = await sending;
      const deliver = () =>
        this.#options.deliveries.send({
          id: send.id,
          kind: ASSET_DELIVERY_KIND,
          payload: {
            size: send.size,
            ...(send.name === undefined ? {} : { name: send.name }),
            ...(send.mimeType === undefined ? {} : { mimeType: send.mimeType }),
          },
          asset: send.hash,
          ...(send.target === undefined ? {} : { target: send.target }),
          ...(send.ttl === undefined ? {} : { ttl: send.ttl }),
        });
      const delivery = await deliver().catch(async (error: unknown) => {
        // The server's copy went between the upload (or the probe that found it complete)
        // and the delivery: a clean-up of a copy nothing referenced raced this send. Upload
        // it again from the asset store and send once more.
        if (!isSyncError(error) || error.code !== 'asset_missing') throw error;
        await uploadAsset(run, send.hash);
        return deliver();
      });
      await this.#sendLog.done(send);
      tracker?.settle('completed');
      return delivery;
    } catch (error) {
      if (!context.signal.aborted) {
        if (known !== undefined) await this.#sendLog.done(known).catch(() => undefined);
        tracker?.settle('failed', String(error));
      }
      throw error;
    } finally {
      this.#sending.delete(id);
    }
  }

  /**
   * The upload of a send left unfinished: by its upload id where it had one and the
   * transport still takes them (unless the server completed it meanwhile), else by its hash.
   */
  async #resumeUpload(run: TransferRun, send: PendingAssetSend): Promise<void> {
    const { uploadId } = send;
    if (uploadId === undefined || !hasUploadsById(run.transport)) {
      return uploadAsset(run, send.hash);
    }
    const probe = await run.transport.probe?.(send.hash, run.signal).catch(() => undefined);
    if (probe?.complete === true) {
      run.onProgress(send.size, send.size);
      return;
    }
    const written = new WrittenBytes();
    written.advance(send.size);
    return uploadById(run, {
      uploadId,
      key: `resume-${uploadId}`,
      written,
      done: Promise.resolve({ hash: send.hash, size: send.size }),
      committed: Promise.resolve(),
      size: send.size,
      resumed: true,
    });
  }

  /** Continues the sends the signed-in user left unfinished (a reload, a crash, `stop()`). */
  async #resumeSends(context: SignedInContext): Promise<void> {
    let pending: PendingAssetSend[];
    try {
      pending = await this.#sendLog.list(context.session.userId);
    } catch {
      return; // storage unreadable now: the next sign-in tries again
    }
    for (const send of pending) {
      if (context.signal.aborted) return;
      if (this.#sending.has(send.id)) continue;
      if ((await this.#options.store.stat(send.hash)) === undefined) {
        // The bytes are gone from the store (deleted meanwhile): nothing left to send.
        await this.#sendLog.done(send).catch(() => undefined);
        this.#track(send.id, send.hash, 'upload', send.name, send.size).settle(
          'failed',
          `asset ${send.hash} is no longer in the asset store`,
        );
        continue;
      }
      // Reported through the `transfer` event; the `send` call that started it is gone.
      await this.#runSend(context, send, (run) => this.#resumeUpload(run, send)).catch(
        () => undefined,
      );
    }
  }

  async add(
    source: AssetSource,
    meta: { name?: string; mimeType?: string } = {},
  ): Promise<AssetFile> {
    checkSource(source);
    const { hash } = await importAsset({
      store: this.#options.store,
      source,
      key: `import-${this.#options.newId()}`,
      meta: pickMeta(meta),
      chunkBytes: this.#options.chunkBytes,
    });
    return (await this.get(hash)) as AssetFile;
  }

  async request(hash: string, options: RequestAssetOptions): Promise<Transfer> {
    const context = this.#require();
    const transfers = this.#options.transport.transfers;
    if (transfers === undefined) {
      throw transportLacks('transfers');
    }
    const id = this.#options.newId();
    // Checked here, not only by the server: a mistake that throws inside the retryer (no
    // options at all) would be retried for ever, and a bad hash is named as such.
    if (!/^[0-9a-f]{64}$/.test(hash)) {
      throw new SyncError('invalid', `${hash} is not a sha256 as 64 lowercase hex digits`);
    }
    if (typeof options?.from !== 'string' || typeof options.scope !== 'string') {
      throw new SyncError('invalid', 'A request names the holder (`from`) and a shared `scope`');
    }
    const body = {
      id,
      scope: options.scope,
      assetHash: hash,
      from: { userId: options.from },
      ...pickMeta(options),
    };
    const transfer = await context.retryer.run(
      () => transfers.create(body, context.signal),
      context.signal,
    );
    this.#track(id, hash, 'download', options.name, options.size ?? 0).settle('pending');
    return transfer;
  }

  provide(provider: AssetProvider | null): void {
    this.#provider = provider;
  }

  async get(hash: string): Promise<AssetFile | undefined> {
    const store = this.#options.store;
    const meta = await store.stat(hash);
    if (meta === undefined) return undefined;
    const chunkBytes = this.#options.chunkBytes;
    return {
      ...meta,
      hash,
      bytes: () => store.read(hash, 0, meta.size),
      stream: () => {
        let at = 0;
        const readInto = store.readInto;
        if (readInto === undefined) {
          return new ReadableStream<Uint8Array>({
            async pull(controller) {
              if (at >= meta.size) {
                controller.close();
                return;
              }
              const end = Math.min(meta.size, at + chunkBytes);
              controller.enqueue(await store.read(hash, at, end));
              at = end;
            },
          });
        }
        // A store that reads into a given buffer gives a byte stream: a BYOB reader (an
        // import of this asset, see transfer-io) has it filled in place, no buffer per read.
        return new ReadableStream({
          type: 'bytes',
          async pull(controller) {
            const request = controller.byobRequest;
            if (at >= meta.size) {
              controller.close();
              request?.respond(0);
              return;
            }
            const view = request?.view;
            const target =
              view != null
                ? new Uint8Array(
                    view.buffer,
                    view.byteOffset,
                    Math.min(view.byteLength, meta.size - at),
                  )
                : new Uint8Array(Math.min(chunkBytes, meta.size - at));
            const read = await readInto.call(store, hash, at, target);
            if (read === 0) {
              throw new SyncError(
                'storage',
                `The asset ${hash} ends before its ${meta.size} bytes`,
              );
            }
            at += read;
            if (view != null) (request as ReadableStreamBYOBRequest).respond(read);
            else controller.enqueue(target.subarray(0, read));
          },
        }) as ReadableStream<Uint8Array>;
      },
    };
  }

  transfers(): readonly TransferProgress[] {
    return this.#list;
  }

  /**
   * Requester side: reads the transfers this session asked for and downloads each one whose
   * holder has uploaded it; coalesced like the inbox's catch-up.
   */
  #checkTransfers(): Promise<void> {
    if (this.#checking !== null) {
      this.#checkAgain = true;
      return this.#checking;
    }
    this.#checking = (async () => {
      try {
        do {
          this.#checkAgain = false;
          await this.#checkOnce();
        } while (this.#checkAgain && this.#context !== null);
      } finally {
        this.#checking = null;
      }
    })();
    return this.#checking;
  }

  async #checkOnce(): Promise<void> {
    const context = this.#context;
    const transfers = this.#options.transport.transfers;
    if (context === null || transfers === undefined) return;
    let list: Transfer[];
    try {
      list = await context.retryer.run(() => transfers.list(context.signal), context.signal);
    } catch {
      return;
    }
    for (const transfer of list) {
      if (transfer.requesterSessionId !== context.session.sessionId) continue;
      if (transfer.state === 'expired' || transfer.state === 'failed') {
        this.#trackers.get(transfer.id)?.settle(transfer.state, transfer.error);
        continue;
      }
      if (transfer.state === 'completed') continue;
      const uploaded = transfer.totalBytes > 0 && transfer.uploadedBytes >= transfer.totalBytes;
      if (!uploaded || this.#downloading.has(transfer.id)) continue;
      // Every byte arrived, but the server may still be verifying the hash: not readable yet.
      if (!(await this.#readable(context, transfer.assetHash))) continue;
      this.#downloading.add(transfer.id);
      void this.#downloadTransfer(context, transfer).finally(() =>
        this.#downloading.delete(transfer.id),
      );
    }
  }

  async #readable(context: SignedInContext, hash: string): Promise<boolean> {
    const probe = this.#options.transport.assets?.probe;
    if (probe === undefined) return true;
    try {
      return (await probe.call(this.#options.transport.assets, hash, context.signal)).complete;
    } catch {
      return false; // the next transfer event or reconnection checks again
    }
  }

  async #downloadTransfer(context: SignedInContext, transfer: Transfer): Promise<void> {
    const transfers = this.#options.transport.transfers;
    if (transfers === undefined) return;
    const tracker = this.#track(
      transfer.id,
      transfer.assetHash,
      'download',
      transfer.name,
      transfer.totalBytes,
    );
    const report = (body: Parameters<typeof transfers.progress>[0]) =>
      context.retryer.run(() => transfers.progress(body, context.signal), context.signal);
    const run = this.#run(context, tracker, context.signal, (done) => {
      void transfers
        .progress({ id: transfer.id, side: 'download', bytesDone: done })
        .catch(() => {});
    });
    try {
      await this.#download(run, transfer.assetHash, {
        size: transfer.totalBytes,
        ...pickMeta(transfer),
      });
      await report({
        id: transfer.id,
        side: 'download',
        bytesDone: transfer.totalBytes,
        state: 'completed',
      });
      tracker.settle('completed');
    } catch (error) {
      if (context.signal.aborted) return;
      const message = error instanceof Error ? error.message : String(error);
      tracker.settle('failed', message);
      await report({
        id: transfer.id,
        side: 'download',
        bytesDone: tracker.snapshot.bytesDone,
        state: 'failed',
        error: message.slice(0, 1024),
      }).catch(() => {});
    }
  }

  /**
   * Downloads `hash` once the download of it already running (another delivery of the same
   * asset) ended: then it is stored and nothing is fetched.
   */
  async #download(
    run: TransferRun,
    hash: string,
    meta: Parameters<typeof downloadAsset>[2],
  ): Promise<void> {
    for (let running = this.#fetching.get(hash); running !== undefined; ) {
      await running.catch(() => undefined);
      running = this.#fetching.get(hash);
    }
    const download = downloadAsset(run, hash, meta);
    this.#fetching.set(hash, download);
    try {
      await download;
    } finally {
      if (this.#fetching.get(hash) === download) this.#fetching.delete(hash);
    }
  }

  #run(
    context: SignedInContext,
    tracker: Pick<ProgressTracker, 'advance'>,
    signal: AbortSignal,
    also?: (bytesDone: number) => void,
  ): TransferRun {
    const transport = this.#options.transport.assets;
    if (transport === undefined) throw transportLacks('assets');
    return {
      transport,
      store: this.#options.store,
      retryer: context.retryer,
      signal,
      chunkBytes: this.#options.chunkBytes,
      window: this.#options.uploadWindow,
      onProgress: (done, total) => {
        tracker.advance(done, total);
        also?.(done);
      },
    };
  }

  #track(
    id: string,
    assetHash: string,
    direction: 'upload' | 'download',
    name: string | undefined,
    totalBytes: number,
  ): ProgressTracker {
    const existing = this.#trackers.get(id);
    if (existing !== undefined) return existing;
    const tracker = new ProgressTracker({
      initial: {
        id,
        assetHash,
        direction,
        state: 'pending',
        bytesDone: 0,
        totalBytes,
        ...(name === undefined ? {} : { name }),
      },
      now: () => this.#options.env.now(),
      publish: (snapshot) => {
        const others = this.#list.filter((p) => p.id !== id || p.direction !== direction);
        this.#list = Object.freeze([...others, snapshot]);
        this.#options.publish(snapshot);
      },
    });
    this.#trackers.set(id, tracker);
    return tracker;
  }

  #require(): SignedInContext {
    if (this.#context === null) throw new SyncError('auth', 'Not signed in');
    return this.#context;
  }
}

function pickMeta(source: { name?: unknown; mimeType?: unknown; size?: unknown }): {
  name?: string;
  mimeType?: string;
  size?: number;
} {
  return {
    ...(typeof source.name === 'string' ? { name: source.name } : {}),
    ...(typeof source.mimeType === 'string' ? { mimeType: source.mimeType } : {}),
    ...(typeof source.size === 'number' ? { size: source.size } : {}),
  };
}

function pendingSend(
  id: string,
  context: SignedInContext,
  hash: string,
  size: number,
  options: SendAssetOptions,
): PendingAssetSend {
  return {
    id,
    userId: context.session.userId,
    hash,
    size,
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(options.mimeType === undefined ? {} : { mimeType: options.mimeType }),
    ...(options.target === undefined ? {} : { target: options.target }),
    ...(options.ttl === undefined ? {} : { ttl: options.ttl }),
  };
}
