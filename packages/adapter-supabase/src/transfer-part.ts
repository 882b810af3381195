/**
 * The `TransferTransport` of `supabaseTransport`: transfers on request over the RPC functions
 * of `sql/0005_syncline_transfers.sql`, which answer the reference server's JSON shapes (checked
 * by the same protocol validators) and its outcomes as PostgREST errors: `not_found` (404, also
 * for a transfer of other users), `forbidden` (403), `conflict` and `transfer_final` (409).
 *
 * When a progress report ends a transfer and nothing live needs the holder's Storage object
 * any more, the SQL names it and this part removes it through Storage (the requester may: the
 * object's policy lets a transfer's requester read and remove it).
 *
 * @module
 */
import type { TransferTransport } from '@syncline/sync-core';
import {
  validateTransferListResponse,
  validateTransferResponse,
} from '@syncline/sync-core/protocol';
import type { SupabaseClientLike } from './client-like.js';
import { callSynclineRpc } from './rpc-call.js';

/** What the transfer part needs besides the client. */
export interface TransferPartContext {
  /** Removes Storage objects that a finished transfer released (failures reported, not thrown). */
  release(paths: string[]): Promise<void>;
}

/** Builds the transfer part over `client.rpc`. */
export function supabaseTransfers(
  client: Pick<SupabaseClientLike, 'rpc'>,
  context: TransferPartContext,
): TransferTransport {
  const rpc = <T>(
    fn: string,
    args: Record<string, unknown>,
    signal: AbortSignal | undefined,
    validate: (data: unknown) => T,
  ): Promise<T> => callSynclineRpc(client, fn, args, signal, validate);
  const transfer = (data: unknown) =>
    validateTransferResponse({ transfer: (data as { transfer?: unknown })?.transfer }).transfer;

  return {
    create: (req, signal) =>
      rpc(
        'syncline_transfer_create',
        {
          id: req.id,
          scope: req.scope,
          asset_hash: req.assetHash,
          from_user_id: req.from.userId,
          ...(req.name === undefined ? {} : { name: req.name }),
          ...(req.size === undefined ? {} : { size: req.size }),
          ...(req.mimeType === undefined ? {} : { mime_type: req.mimeType }),
        },
        signal,
        transfer,
      ),
    list: (signal) =>
      rpc('syncline_transfers', {}, signal, validateTransferListResponse).then((a) => a.transfers),
    get: (id, signal) => rpc('syncline_transfer', { id }, signal, transfer),
    async progress({ id, side, bytesDone, state, error }, signal) {
      const answer = await rpc(
        'syncline_transfer_progress',
        {
          id,
          side,
          bytes_done: bytesDone,
          ...(state === undefined ? {} : { state }),
          ...(error === undefined ? {} : { error }),
        },
        signal,
        (data) => {
          const release = (data as { release?: unknown })?.release;
          if (release !== null && typeof release !== 'string') throw data;
          return { transfer: transfer(data), release };
        },
      );
      if (answer.release !== null) await context.release([answer.release]);
      return answer.transfer;
    },
  };
}
