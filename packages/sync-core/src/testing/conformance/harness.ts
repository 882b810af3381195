import { formatHlc } from '../../clock/hlc.js';
import { isSyncError, type SyncErrorKind } from '../../errors/sync-error.js';
import { createUuidV7, type IdGenerator } from '../../ids/uuid-v7.js';
import type {
  JsonObject,
  Mutation,
  MutationResult,
  PullResponse,
  PushResponse,
  SyncRecord,
} from '../../protocol/types.js';
import type { SyncTransport } from '../../transport/types.js';
import type { ConformanceCapabilities, ConformanceSubject } from './types.js';

/** The collection every case writes to. */
export const CASE_COLLECTION = 'conformance_items';

/**
 * The error a conformance case fails with. Its message starts with the rule's id in brackets,
 * then says what the rule requires and what the transport did instead.
 */
export class ConformanceFailure extends Error {
  /** Always `'ConformanceFailure'`. */
  override readonly name = 'ConformanceFailure' as const;
  /** The id of the broken rule, e.g. `push.idempotent`. */
  readonly rule: string;

  /**
   * @param rule - the broken rule's id
   * @param message - what the rule requires and what happened instead
   * @param options - the underlying error, when a call threw
   */
  constructor(rule: string, message: string, options?: { cause?: unknown }) {
    super(`[${rule}] ${message}`, options);
    this.rule = rule;
  }
}

/** What every case works with: fresh users, mutation builders and rule-tagged assertions. */
export class CaseHarness {
  /** The subject's capabilities, defaults filled in. */
  readonly capabilities: Required<ConformanceCapabilities>;
  readonly #rule: string;
  readonly #subject: ConformanceSubject;
  readonly #ids: IdGenerator;
  readonly #userPrefix: string;
  #users = 0;
  #ticks = 0;

  /**
   * @param rule - the id of the rule this case checks (prefixes every failure)
   * @param subject - the transport under test
   * @param runId - unique per suite run, so users never collide across runs on one backend
   */
  constructor(rule: string, subject: ConformanceSubject, runId: string) {
    this.#rule = rule;
    this.#subject = subject;
    this.capabilities = {
      patch: true,
      transactions: true,
      mutationHlc: true,
      ...subject.capabilities,
    };
    this.#ids = createUuidV7({
      now: () => Date.now(),
      randomBytes: (bytes) => globalThis.crypto.getRandomValues(bytes),
    });
    this.#userPrefix = `conf-${runId}-${rule.replace(/[^a-z0-9]+/g, '-')}`.slice(0, 34);
  }

  /** A user id no other case or run uses. */
  newUser(): string {
    this.#users += 1;
    return `${this.#userPrefix}-${this.#users}`;
  }

  /** The default scope of `userId`. */
  scopeOf(userId: string): string {
    return `user:${userId}`;
  }

  /** A transport signed in as `userId`. */
  async connect(userId: string): Promise<SyncTransport> {
    return this.#subject.connect(userId);
  }

  /** A transport as `userId` whose credentials the backend refuses (the subject provides it). */
  async unauthorized(userId: string): Promise<SyncTransport> {
    const connect = this.#subject.connectUnauthorized;
    if (connect === undefined) throw this.fail('the subject has no connectUnauthorized');
    return connect.call(this.#subject, userId);
  }

  /** A transport whose backend will soon answer "slow down" (the subject must provide it). */
  async rateLimited(userId: string): Promise<SyncTransport> {
    const connect = this.#subject.connectRateLimited;
    if (connect === undefined) throw this.fail('the subject has no connectRateLimited');
    return connect.call(this.#subject, userId);
  }

  /** A mutation with a fresh id and a fresh, increasing HLC. */
  mutation(fields: Omit<Mutation, 'id' | 'hlc'> & { id?: string }): Mutation {
    this.#ticks += 1;
    const mutation: Mutation = {
      ...fields,
      id: fields.id ?? this.#ids(),
      hlc: formatHlc({ wallTime: Date.now(), counter: this.#ticks, nodeId: 'conformance' }),
    };
    if (fields.data === undefined) delete mutation.data;
    return mutation;
  }

  /** A `put` of `data` into `recordId` of the cases' collection, on `baseRevision`. */
  put(
    scope: string,
    recordId: string,
    data: JsonObject,
    baseRevision = 0,
    txId?: string,
  ): Mutation {
    const fields = {
      scope,
      collection: CASE_COLLECTION,
      recordId,
      op: 'put' as const,
      data,
      baseRevision,
    };
    return this.mutation(txId === undefined ? fields : { ...fields, txId });
  }

  /** Pushes as `transport`; a rejection fails the rule unless the caller expects one. */
  async push(
    transport: SyncTransport,
    mutations: Mutation[],
    what = 'push',
  ): Promise<PushResponse> {
    let response: PushResponse;
    try {
      response = await transport.push({
        clientId: 'conformance-client',
        sessionId: 'conformance-session',
        mutations,
      });
    } catch (error) {
      throw this.fail(`${what} rejected: ${describeError(error)}`, error);
    }
    this.check(
      Array.isArray(response?.results) && response.results.length === mutations.length,
      `${what} must answer one result per mutation (${mutations.length}), got ${JSON.stringify(response)}`,
    );
    response.results.forEach((result, i) => {
      this.check(
        result.id === mutations[i]?.id,
        `${what}: result ${i} must be for mutation ${mutations[i]?.id} (results come in request order), got ${result.id}`,
      );
    });
    return response;
  }

  /** Pushes one mutation and returns its result. */
  async pushOne(
    transport: SyncTransport,
    mutation: Mutation,
    what = 'push',
  ): Promise<MutationResult> {
    const response = await this.push(transport, [mutation], what);
    return response.results[0] as MutationResult;
  }

  /** Pushes one mutation that must apply; returns the record's new revision. */
  async apply(transport: SyncTransport, mutation: Mutation, what = 'push'): Promise<number> {
    const result = await this.pushOne(transport, mutation, what);
    this.check(
      result.status === 'applied',
      `${what} of ${mutation.op} ${mutation.recordId} (baseRevision ${mutation.baseRevision}) must be applied, got ${JSON.stringify(result)}`,
    );
    return (result as { revision: number }).revision;
  }

  /** Pulls one page; a rejection fails the rule. */
  async pull(
    transport: SyncTransport,
    scope: string,
    checkpoint: string | null,
    limit?: number,
  ): Promise<PullResponse> {
    try {
      const request = limit === undefined ? { scope, checkpoint } : { scope, checkpoint, limit };
      return await transport.pull(request);
    } catch (error) {
      throw this.fail(`pull of ${scope} rejected: ${describeError(error)}`, error);
    }
  }

  /** Pulls every page from `checkpoint` on; returns the changes and the last checkpoint. */
  async pullAll(
    transport: SyncTransport,
    scope: string,
    checkpoint: string | null = null,
    limit?: number,
  ): Promise<{ changes: SyncRecord[]; checkpoint: string | null; pages: PullResponse[] }> {
    const changes: SyncRecord[] = [];
    const pages: PullResponse[] = [];
    let at = checkpoint;
    for (let page = 0; page < 1_000; page++) {
      const response = await this.pull(transport, scope, at, limit);
      pages.push(response);
      this.check(
        typeof response.checkpoint === 'string',
        `pull must answer a checkpoint string, got ${JSON.stringify(response.checkpoint)}`,
      );
      changes.push(...response.changes);
      at = response.checkpoint;
      if (!response.hasMore) return { changes, checkpoint: at, pages };
    }
    throw this.fail('pull kept answering hasMore: true for 1,000 pages');
  }

  /** The scope's current copy of one record, as a pull from the start sees it. */
  async current(
    transport: SyncTransport,
    scope: string,
    collection: string,
    id: string,
  ): Promise<SyncRecord | undefined> {
    const { changes } = await this.pullAll(transport, scope);
    let last: SyncRecord | undefined;
    for (const change of changes) {
      if (change.collection === collection && change.id === id) last = change;
    }
    return last;
  }

  /** Calls `call`, which must reject with a `SyncError` of one of `kinds`. */
  async expectSyncError(
    call: () => Promise<unknown>,
    kinds: readonly SyncErrorKind[],
    what: string,
  ): Promise<void> {
    let outcome: unknown;
    try {
      outcome = await call();
    } catch (error) {
      this.check(
        isSyncError(error),
        `${what} must reject with a SyncError (kind ${kinds.join(' or ')}), so the client can decide retry or stop; it rejected with ${describeError(error)}`,
      );
      const kind = (error as { kind: SyncErrorKind }).kind;
      this.check(
        kinds.includes(kind),
        `${what} must reject with a SyncError of kind ${kinds.join(' or ')}, got kind ${kind}: ${describeError(error)}`,
      );
      return;
    }
    throw this.fail(
      `${what} must reject with a SyncError of kind ${kinds.join(' or ')}; it resolved with ${JSON.stringify(outcome)}`,
    );
  }

  /** Fails the rule with `message` unless `condition` holds. */
  check(condition: unknown, message: string): asserts condition {
    if (!condition) throw this.fail(message);
  }

  /** A failure of this case's rule. */
  fail(message: string, cause?: unknown): ConformanceFailure {
    return new ConformanceFailure(this.#rule, message, cause === undefined ? undefined : { cause });
  }
}

/** `data` of a record as JSON text, with keys sorted, for comparisons in messages. */
export function canonical(value: JsonObject | null | undefined): string {
  if (value === null || value === undefined) return String(value);
  return JSON.stringify(sortedDeep(value));
}

function sortedDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedDeep);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    out[key] = sortedDeep((value as Record<string, unknown>)[key]);
  }
  return out;
}

function describeError(error: unknown): string {
  if (isSyncError(error))
    return `SyncError(${error.kind}${error.status ? ` ${error.status}` : ''}): ${error.message}`;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
