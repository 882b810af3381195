/**
 * Pull against a resource API, which has no change feed: list each resource, compare the
 * listed revisions with the ones the client last synced (kept in the checkpoint), and fetch
 * the items that changed. The checkpoint is therefore a map of ids to revisions (JSON text),
 * which can be far longer than a syncline server's checkpoint: it is opaque to the client and
 * stored with the records of the same page, as every checkpoint is.
 *
 * @module
 */
import type { PullRequest, PullResponse, SyncRecord } from '@syncline/sync-core';
import type { ResolvedResource } from './options.js';
import type { ListedItem, ResourceApi } from './resource-api.js';

/** Revisions synced so far: collection → id → revision. */
type Known = Record<string, Record<string, number>>;

/** One change to deliver: an item to fetch, or a record known from the list alone. */
interface Task {
  resource: ResolvedResource;
  id: string;
  /** The listed revision (for a tombstone, the revision it gets). */
  revision: number;
  /**
   * The record when the list told all: a tombstone (`deletedAt` set, or no longer listed), or
   * the whole item when the list carries the data (`listIncludesData`).
   */
  known: SyncRecord | undefined;
}

/** The work left after a checkpoint: what was listed, minus what pages already delivered. */
interface Plan {
  known: Known;
  tasks: Task[];
  createdAt: number;
}

const CHECKPOINT_VERSION = 1;
// A plan older than this is listed again instead of continued (the API may have moved on; a
// fresh list is always correct, a continued plan is only quicker).
const PLAN_MAX_AGE_MS = 30_000;

/** Options of {@link ResourcePuller}. */
export interface ResourcePullerOptions {
  api: ResourceApi;
  resources: readonly ResolvedResource[];
  concurrency: number;
  /** Most changes in one pull page (the client's `limit` may lower it). */
  pageSize: number;
  now: () => number;
}

/** Turns a resource API into pull pages. One per transport; it remembers unfinished plans. */
export class ResourcePuller {
  readonly #o: ResourcePullerOptions;
  /** Unfinished plans by the checkpoint their next page continues from. */
  readonly #plans = new Map<string, Plan>();

  constructor(options: ResourcePullerOptions) {
    this.#o = options;
  }

  /** One page of changes of `request.scope` after `request.checkpoint`. */
  async pull(request: PullRequest, signal?: AbortSignal): Promise<PullResponse> {
    const { now } = this.#o;
    const continued = request.checkpoint === null ? undefined : this.#plans.get(request.checkpoint);
    if (request.checkpoint !== null) this.#plans.delete(request.checkpoint);
    let plan = continued;
    if (plan === undefined || now() - plan.createdAt > PLAN_MAX_AGE_MS) {
      const known = decodeCheckpoint(request.checkpoint);
      // Not a checkpoint of ours (another transport's, or an older format): start over.
      if (known === undefined) {
        return {
          changes: [],
          checkpoint: encodeCheckpoint({}),
          hasMore: false,
          resetRequired: true,
        };
      }
      plan = await this.#plan(request.scope, known, signal);
    }
    const limit = Math.max(1, Math.min(request.limit ?? this.#o.pageSize, this.#o.pageSize));
    const batch = plan.tasks.slice(0, limit);
    const rest = plan.tasks.slice(limit);
    const changes = await this.#deliver(request.scope, batch, signal);
    const known = structuredClone(plan.known);
    for (const change of changes) {
      const ids = known[change.collection] ?? {};
      known[change.collection] = ids;
      if (change.deleted && !this.#keepsTombstones(change.collection)) delete ids[change.id];
      else ids[change.id] = change.revision;
    }
    const checkpoint = encodeCheckpoint(known);
    if (rest.length > 0)
      this.#plans.set(checkpoint, { known, tasks: rest, createdAt: plan.createdAt });
    return { changes, checkpoint, hasMore: rest.length > 0 };
  }

  async #plan(scope: string, known: Known, signal?: AbortSignal): Promise<Plan> {
    const tasks: Task[] = [];
    for (const resource of this.#o.resources) {
      const listed = await this.#o.api.list(resource, signal);
      const before = known[resource.collection] ?? {};
      const present = new Set<string>();
      for (const item of listed) {
        present.add(item.id);
        if (before[item.id] === item.revision) continue;
        tasks.push(this.#task(scope, resource, item));
      }
      if (resource.listIncludesDeleted) continue;
      // Not listed any more: deleted on the server (the list leaves tombstones out).
      for (const [id, revision] of Object.entries(before)) {
        if (present.has(id)) continue;
        const tombstone = this.#tombstone(scope, resource, id, revision + 1);
        tasks.push({ resource, id, revision: revision + 1, known: tombstone });
      }
    }
    return { known, tasks, createdAt: this.#o.now() };
  }

  #task(scope: string, resource: ResolvedResource, item: ListedItem): Task {
    const complete = item.deleted || resource.listIncludesData;
    const known = complete ? this.#o.api.toRecord(resource, scope, item.item) : undefined;
    return { resource, id: item.id, revision: item.revision, known };
  }

  #tombstone(scope: string, resource: ResolvedResource, id: string, revision: number): SyncRecord {
    return {
      ...this.#o.api.toRecord(resource, scope, {
        [resource.idField]: id,
        [resource.revisionField]: revision,
      }),
      data: null,
      deleted: true,
    };
  }

  /** Fetches the batch's items, at most `concurrency` at once, in the batch's order. */
  async #deliver(scope: string, batch: Task[], signal?: AbortSignal): Promise<SyncRecord[]> {
    const out: SyncRecord[] = new Array(batch.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < batch.length) {
        const index = next++;
        const task = batch[index] as Task;
        out[index] = task.known ?? (await this.#fetch(scope, task, signal));
      }
    };
    const workers = Array.from({ length: Math.min(this.#o.concurrency, batch.length) }, worker);
    await Promise.all(workers);
    return out;
  }

  async #fetch(scope: string, task: Task, signal?: AbortSignal): Promise<SyncRecord> {
    const item = await this.#o.api.get(task.resource, task.id, signal);
    // Deleted between the list and this read: a tombstone after the listed revision.
    if (item === null) return this.#tombstone(scope, task.resource, task.id, task.revision + 1);
    return this.#o.api.toRecord(task.resource, scope, item);
  }

  #keepsTombstones(collection: string): boolean {
    return this.#o.resources.find((r) => r.collection === collection)?.listIncludesDeleted ?? false;
  }
}

function encodeCheckpoint(known: Known): string {
  return JSON.stringify({ v: CHECKPOINT_VERSION, known });
}

/** The revisions in a checkpoint (`null`, a first pull, knows nothing); `undefined` if not ours. */
function decodeCheckpoint(checkpoint: string | null): Known | undefined {
  if (checkpoint === null) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(checkpoint);
  } catch {
    parsed = undefined;
  }
  const known = (parsed as { v?: unknown; known?: unknown } | undefined)?.known;
  if (
    (parsed as { v?: unknown })?.v !== CHECKPOINT_VERSION ||
    typeof known !== 'object' ||
    known === null
  ) {
    return undefined;
  }
  return known as Known;
}
