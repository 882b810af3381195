/**
 * The service role's clean-up, for users who never come back: an Edge Function handler
 * (`(req: Request) => Promise<Response>`, what `Deno.serve` takes) that runs
 * `syncline_sweep_assets` of `sql/0004_syncline_sweep.sql` with a supabase-js client created
 * with the service-role key (it sweeps the delivery tables and lists the objects of every user
 * that nothing needs any more, claiming them) and removes those objects through the Storage API,
 * in batches, until none is left; after each batch's Storage request it clears the batch's
 * claims (`syncline_sweep_release`). While an object is claimed a send of it answers a
 * retryable `asset_busy`, so no new delivery references a file the sweep is removing. A claim
 * expires (`claimMs` of the listing), so a round whose Storage request would start once half of
 * that has passed since its listing was asked for sends none: it releases its claims and the run
 * answers 502 `sweep_too_slow`. `functions/syncline-sweep/index.ts` of this package deploys it.
 *
 * @module
 */
import { type SyncEnvironment, SyncError } from '@syncline/sync-core';
import type { RpcBuilderLike, SupabaseStorageLike } from './client-like.js';
import { callRpc, validatedAnswer } from './rpc-call.js';
import { syncErrorFromStorage } from './storage-assets.js';

/** Options of {@link syncSweepHandler}. */
export interface SyncSweepOptions {
  /**
   * A supabase-js client created with the project's service-role key (only the service role
   * may call `syncline_sweep_assets`, and it removes objects of every user).
   */
  client: {
    rpc(fn: string, args?: Record<string, unknown>): RpcBuilderLike;
    storage: SupabaseStorageLike;
  };
  /**
   * The bearer every request must carry (`Authorization: Bearer <secret>`): the service-role
   * key, or a secret of your own. An Edge Function's gateway lets any valid JWT of the project
   * through, the anon key included, so the handler checks this itself.
   */
  secret: string;
  /**
   * Objects listed and removed per round (one RPC call and one Storage request). Storage
   * removes at most 1000 objects per request.
   * @default 1000
   */
  batchSize?: number;
  /**
   * Rounds per request at most; what is left goes at the next run.
   * @default 20
   */
  maxRounds?: number;
  /**
   * Replaces the clock that times each round (tests). Only differences of `now()` are read: the
   * time from just before a round's listing RPC is sent to just before its Storage request
   * would start.
   * @default `performance.now()` (monotonic: a wall clock stepped back would shorten a round)
   */
  environment?: Partial<Pick<SyncEnvironment, 'now'>>;
}

/** The JSON body of a successful sweep (status 200). */
export interface SyncSweepReport {
  /** What `syncline.sweep()` did, summed over the rounds. */
  sweep: {
    expiredDeliveries: number;
    completedDeliveries: number;
    purgedDeliveries: number;
    expiredTransfers: number;
    purgedTransfers: number;
  };
  /** Objects removed from Storage. */
  removedObjects: number;
  /** True when releasable objects were left for the next run (`maxRounds` reached). */
  more: boolean;
}

interface SweepPage {
  bucket: string;
  objects: string[];
  more: boolean;
  claim: string;
  claimMs: number;
  sweep: SyncSweepReport['sweep'];
}

/**
 * The claims' lifetime of a listing without `claimMs` (an older `0004_syncline_sweep.sql`):
 * `syncline.asset_claim_ms()` has been 5 minutes since claims exist.
 */
const OLDER_CLAIM_MS = 300_000;

const SWEEP_FIELDS = [
  'expiredDeliveries',
  'completedDeliveries',
  'purgedDeliveries',
  'expiredTransfers',
  'purgedTransfers',
] as const;

/**
 * The clean-up handler. POST with the bearer runs it and answers 200 with a
 * {@link SyncSweepReport}; another method answers 405, a missing or wrong bearer 401, and a
 * failed database or Storage call 502 with `{ error: { kind, code, message }, removedObjects }`
 * (what was removed before the failure stays removed; the next run carries on). A round whose
 * Storage request would start more than half the claims' lifetime (`claimMs` of the listing)
 * after its listing RPC was sent removes nothing: its claims are released and the answer is 502
 * with `kind: 'timeout'`, `code: 'sweep_too_slow'` (a send of those objects could otherwise be
 * accepted once the claims expire, and Storage, called with the service role, would remove the
 * object under it).
 *
 * @throws SyncError `misconfigured` when `secret` is empty or `batchSize`/`maxRounds` are not
 *   positive integers (`batchSize` at most 1000).
 */
export function syncSweepHandler(options: SyncSweepOptions): (req: Request) => Promise<Response> {
  const batchSize = options.batchSize ?? 1000;
  const maxRounds = options.maxRounds ?? 20;
  if (typeof options.secret !== 'string' || options.secret === '') {
    throw new SyncError('misconfigured', 'syncSweepHandler needs a non-empty secret');
  }
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1000) {
    throw new SyncError('misconfigured', 'syncSweepHandler: batchSize must be 1 to 1000');
  }
  if (!Number.isInteger(maxRounds) || maxRounds < 1) {
    throw new SyncError('misconfigured', 'syncSweepHandler: maxRounds must be a positive integer');
  }
  const expected = `Bearer ${options.secret}`;
  const now = options.environment?.now ?? (() => performance.now());

  const page = async (): Promise<SweepPage> => {
    const data = await callRpc(
      options.client.rpc('syncline_sweep_assets', { max_objects: batchSize }),
      undefined,
    );
    return validatedAnswer('syncline_sweep_assets', () => {
      const answer = data as Partial<SweepPage>;
      const objects = answer?.objects;
      if (
        typeof answer?.bucket !== 'string' ||
        !Array.isArray(objects) ||
        !objects.every((name) => typeof name === 'string') ||
        typeof answer.more !== 'boolean' ||
        typeof answer.claim !== 'string' ||
        !(
          answer.claimMs === undefined ||
          (Number.isInteger(answer.claimMs) && answer.claimMs > 0)
        ) ||
        !SWEEP_FIELDS.every((field) => typeof answer.sweep?.[field] === 'number')
      ) {
        throw data;
      }
      return { ...answer, claimMs: answer.claimMs ?? OLDER_CLAIM_MS } as SweepPage;
    });
  };

  const release = async (claim: string): Promise<void> => {
    await callRpc(options.client.rpc('syncline_sweep_release', { claim }), undefined);
  };

  return async (req) => {
    if (req.method !== 'POST') {
      return json(405, { error: { code: 'method_not_allowed', message: 'POST only' } }, 'POST');
    }
    if (!sameText(req.headers.get('authorization') ?? '', expected)) {
      return json(401, { error: { code: 'unauthorized', message: 'a valid bearer is required' } });
    }
    const report: SyncSweepReport = {
      sweep: {
        expiredDeliveries: 0,
        completedDeliveries: 0,
        purgedDeliveries: 0,
        expiredTransfers: 0,
        purgedTransfers: 0,
      },
      removedObjects: 0,
      more: false,
    };
    try {
      for (let round = 0; round < maxRounds; round++) {
        const asked = now();
        const listed = await page();
        for (const field of SWEEP_FIELDS) report.sweep[field] += listed.sweep[field];
        report.more = listed.more;
        if (listed.objects.length === 0) break;
        // The claims date from the database's clock when the listing ran, after `asked`: this
        // overestimates their age, with no clock of another machine read. Past half their
        // lifetime the request is not started (a request held in Storage for minutes before it
        // deletes is what is left); nothing is removed, so the claims are released.
        const elapsed = now() - asked;
        if (elapsed > listed.claimMs / 2) {
          await release(listed.claim);
          throw new SyncError(
            'timeout',
            `the round took ${Math.ceil(elapsed)} ms from its listing to its Storage request, over half the claims' lifetime (${listed.claimMs} ms): nothing removed, its claims released`,
            { code: 'sweep_too_slow' },
          );
        }
        // The listed objects are claimed (sends of them answer asset_busy, retried) until this
        // releases them once Storage answered. A failed request (one without an answer may
        // still be removing) leaves the claims to expire (syncline.asset_claim_ms()).
        const removed = await removeAll(options.client.storage, listed.bucket, listed.objects);
        await release(listed.claim);
        report.removedObjects += removed;
        // Nothing removed although objects were listed: stop rather than list them again.
        if (!listed.more || removed === 0) break;
      }
    } catch (error) {
      const failure =
        error instanceof SyncError
          ? error
          : new SyncError('server', 'the sweep failed', { cause: error });
      return json(502, {
        error: { kind: failure.kind, code: failure.code, message: failure.message },
        removedObjects: report.removedObjects,
      });
    }
    return json(200, report);
  };
}

/** Removes `paths` through Storage; answers how many Storage removed, throws its error. */
async function removeAll(
  storage: SupabaseStorageLike,
  bucket: string,
  paths: string[],
): Promise<number> {
  let result: Awaited<ReturnType<ReturnType<SupabaseStorageLike['from']>['remove']>>;
  try {
    result = await storage.from(bucket).remove(paths);
  } catch (error) {
    throw new SyncError('network', 'Storage remove failed', { status: 0, cause: error });
  }
  if (result.error !== null) throw syncErrorFromStorage(result.error, 'remove');
  return Array.isArray(result.data) ? result.data.length : 0;
}

/** Compares two strings in time that depends on their length only. */
function sameText(a: string, b: string): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) difference |= (a.charCodeAt(i) || 0) ^ b.charCodeAt(i);
  return difference === 0;
}

function json(status: number, body: unknown, allow?: string): Response {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (allow !== undefined) headers.allow = allow;
  return new Response(JSON.stringify(body), { status, headers });
}
