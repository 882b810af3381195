/**
 * One `client.rpc(...)` call, awaited with an optional abort signal, its failure turned into a
 * `SyncError` (see `errors.ts`). Shared by both transports of this package.
 *
 * @module
 */
import { SyncError } from '@syncline/sync-core';
import type { RpcBuilderLike, RpcResultLike, SupabaseClientLike } from './client-like.js';
import { syncErrorFromPostgrest } from './errors.js';

/** Awaits `builder` (aborted by `signal`); returns its data or throws a classified `SyncError`. */
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

/** Runs `validate`; an exception becomes a `server` error with code `bad_response`. */
export function validatedAnswer<T>(what: string, validate: () => T): T {
  try {
    return validate();
  } catch (error) {
    throw new SyncError('server', `${what} answered in an unexpected shape`, {
      cause: error,
      code: 'bad_response',
    });
  }
}

/**
 * `client.rpc(fn, args)` of the syncline SQL, its answer checked by `validate` (see
 * {@link callRpc} and {@link validatedAnswer}).
 */
export async function callSynclineRpc<T>(
  client: Pick<SupabaseClientLike, 'rpc'>,
  fn: string,
  args: Record<string, unknown>,
  signal: AbortSignal | undefined,
  validate: (data: unknown) => T,
): Promise<T> {
  const data = await callRpc(client.rpc(fn, args), signal);
  return validatedAnswer('the syncline SQL', () => validate(data));
}
