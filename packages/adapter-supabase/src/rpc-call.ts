/**
 * One `client.rpc` call as the transport makes it: abortable, every failure a `SyncError`
 * (classified by `syncErrorFromPostgrest`), and the answer checked by a validator.
 *
 * @module
 */
import { SyncError } from '@syncline/sync-core';
import type { RpcBuilderLike, RpcResultLike } from './client-like.js';
import { syncErrorFromPostgrest } from './errors.js';

/** Awaits `builder` (aborted by `signal`); resolves with the function's result. */
export async function callRpc(
  builder: RpcBuilderLike,
  signal: AbortSignal | undefined,
): Promise<unknown> {
  let result: RpcResultLike;
  try {
    result = await (signal === undefined ? builder : builder.abortSignal(signal));
  } catch (error) {
    throw new SyncError('network', 'the Supabase call failed before an answer', {
      cause: error,
      status: 0,
    });
  }
  if (signal?.aborted) {
    throw new SyncError('network', 'the Supabase call was aborted', { cause: signal.reason });
  }
  if (result.error !== null) throw syncErrorFromPostgrest(result.error, result.status);
  return result.data;
}

/** Runs `validate`; a throw means the SQL answered in a shape the adapter does not know. */
export function validatedAnswer<T>(validate: () => T): T {
  try {
    return validate();
  } catch (error) {
    throw new SyncError('server', 'the syncline SQL answered in an unexpected shape', {
      cause: error,
      code: 'bad_response',
    });
  }
}
