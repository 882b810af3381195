/**
 * The HTTP calls of a resource API (list, get, put, delete) and the mapping of its items to
 * syncline records. Every answer is checked here, once; a route that does not exist or an
 * answer that is not the resource's JSON is a setup mistake (a `misconfigured` error with code
 * `route_not_found`, or a `server` error with code `invalid_response`): retried, never taken as
 * "the record is gone".
 *
 * @module
 */
import { formatHlc, type JsonObject, SyncError, type SyncRecord } from '@syncline/sync-core';
import type { HttpClient, HttpRequest } from '../http/http-client.js';
import { errorFromResponse } from '../http/response-error.js';
import type { ResolvedResource } from './options.js';

/** What a write answered. */
export type WriteAnswer =
  | { status: 'applied'; revision: number; item: JsonObject | undefined }
  | { status: 'conflict'; server: JsonObject | null };

/** Version facts of one listed item: enough to tell whether it changed. */
export interface ListedItem {
  id: string;
  revision: number;
  deleted: boolean;
  /** The whole item, when the list carries the data too. */
  item: JsonObject;
}

/** An answer of {@link exchange}: status, headers and the body as text. */
interface HttpExchange {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * Sends `request` and returns its status, headers and body text whatever the status (only a
 * failure to get an answer rejects, with a `SyncError`): a resource API's non-2xx answers
 * carry data, such as a 409's server copy.
 */
function exchange(http: HttpClient, request: HttpRequest): Promise<HttpExchange> {
  return http.send(request, async (response) => ({
    status: response.status,
    headers: response.headers,
    text: await response.text(),
  }));
}

/** The calls of one resource API, as the transport needs them. */
export class ResourceApi {
  readonly #http: HttpClient;
  readonly #now: () => number;

  constructor(http: HttpClient, now: () => number) {
    this.#http = http;
    this.#now = now;
  }

  /** Every item of `resource` (all list pages). */
  async list(resource: ResolvedResource, signal?: AbortSignal): Promise<ListedItem[]> {
    const items: ListedItem[] = [];
    const pageSize = resource.listPageSize;
    for (let offset = 0; ; ) {
      const query: Record<string, string | number> = { ...resource.listQuery };
      if (pageSize !== undefined) Object.assign(query, { limit: pageSize, offset });
      const what = `list ${resource.path}`;
      const answer = await exchange(this.#http, {
        method: 'GET',
        path: resource.path,
        query,
        what,
        signal,
      });
      if (answer.status === 404) throw routeNotFound(what, answer);
      const body = await this.#body(answer, what);
      if (!Array.isArray(body)) throw invalid(what, 'the list answer is not a JSON array');
      for (const entry of body) items.push(this.#listed(resource, entry, what));
      if (pageSize === undefined || body.length < pageSize) return items;
      offset += body.length;
    }
  }

  /** One item, or `null` when the API says it does not exist for this user. */
  async get(
    resource: ResolvedResource,
    id: string,
    signal?: AbortSignal,
  ): Promise<JsonObject | null> {
    const what = `get ${resource.path}/${id}`;
    const answer = await exchange(this.#http, {
      method: 'GET',
      path: itemPath(resource, id),
      what,
      signal,
    });
    if (answer.status === 404) {
      if (!isJsonText(answer.text)) throw routeNotFound(what, answer);
      return null;
    }
    const body = await this.#body(answer, what);
    return this.#item(resource, body, what, id);
  }

  /** `PUT <path>/<id>` with the body and `baseRevision`. */
  async put(
    resource: ResolvedResource,
    id: string,
    data: JsonObject,
    baseRevision: number,
    signal?: AbortSignal,
  ): Promise<WriteAnswer> {
    const body = { ...resource.toBody(data), baseRevision };
    return this.#write(resource, id, 'PUT', body, signal);
  }

  /** `DELETE <path>/<id>` with `{ baseRevision }`. */
  async delete(
    resource: ResolvedResource,
    id: string,
    baseRevision: number,
    signal?: AbortSignal,
  ): Promise<WriteAnswer> {
    return this.#write(resource, id, 'DELETE', { baseRevision }, signal);
  }

  /** The syncline record of an item of `resource` in `scope`. */
  toRecord(resource: ResolvedResource, scope: string, item: JsonObject): SyncRecord {
    const id = String(item[resource.idField]);
    const revision = item[resource.revisionField] as number;
    const deleted = isSet(item[resource.deletedAtField]);
    return {
      scope,
      collection: resource.collection,
      id,
      data: deleted ? null : resource.toData(item),
      revision,
      hlc: hlcOf(item[resource.updatedAtField]),
      deleted,
    };
  }

  async #write(
    resource: ResolvedResource,
    id: string,
    method: 'PUT' | 'DELETE',
    body: JsonObject,
    signal: AbortSignal | undefined,
  ): Promise<WriteAnswer> {
    const what = `${method} ${resource.path}/${id}`;
    const answer = await exchange(this.#http, {
      method,
      path: itemPath(resource, id),
      body,
      what,
      signal,
    });
    if (answer.status === 409) {
      const parsed = parseJson(answer.text);
      const server = (parsed as { server?: unknown } | undefined)?.server;
      if (server === undefined) throw invalid(what, 'a 409 answer must carry { server }');
      return {
        status: 'conflict',
        server: server === null ? null : this.#item(resource, server, what, id),
      };
    }
    if (answer.status === 404) {
      if (!isJsonText(answer.text)) throw routeNotFound(what, answer);
      // The item is gone for this user (deleted for good, or never visible): a conflict with
      // "the server has no such record", which the resolver handles.
      return { status: 'conflict', server: null };
    }
    if (answer.status === 204) {
      return { status: 'applied', revision: (body.baseRevision as number) + 1, item: undefined };
    }
    const parsed = await this.#body(answer, what);
    const revision = (parsed as Record<string, unknown>)[resource.revisionField];
    if (!isRevision(revision)) throw invalid(what, `the answer has no ${resource.revisionField}`);
    return { status: 'applied', revision, item: parsed as JsonObject };
  }

  async #body(answer: HttpExchange, what: string): Promise<unknown> {
    if (answer.status < 200 || answer.status > 299) {
      const response = new Response(answer.text, {
        status: answer.status,
        headers: answer.headers,
      });
      throw await errorFromResponse(response, this.#now(), what, { synclineAnswers: false });
    }
    const parsed = parseJson(answer.text);
    if (parsed === undefined) throw invalid(what, 'the body is not JSON');
    return parsed;
  }

  #listed(resource: ResolvedResource, entry: unknown, what: string): ListedItem {
    const item = this.#item(resource, entry, what);
    return {
      id: String(item[resource.idField]),
      revision: item[resource.revisionField] as number,
      deleted: isSet(item[resource.deletedAtField]),
      item,
    };
  }

  #item(resource: ResolvedResource, value: unknown, what: string, id?: string): JsonObject {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw invalid(what, 'an item is not a JSON object');
    }
    const item = value as JsonObject;
    const itemId = item[resource.idField];
    if (typeof itemId !== 'string' && typeof itemId !== 'number') {
      throw invalid(what, `an item has no ${resource.idField}`);
    }
    if (id !== undefined && String(itemId) !== id) {
      throw invalid(what, `asked for ${id}, the answer is item ${String(itemId)}`);
    }
    if (!isRevision(item[resource.revisionField])) {
      throw invalid(
        what,
        `item ${String(itemId)} has no positive integer ${resource.revisionField}`,
      );
    }
    return item;
  }
}

function itemPath(resource: ResolvedResource, id: string): string {
  return `${resource.path}/${encodeURIComponent(id)}`;
}

function isRevision(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null && value !== false;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isJsonText(text: string): boolean {
  return text.length > 0 && parseJson(text) !== undefined;
}

/** The HLC of a server write, from its updated-at time; an absent or bad time sorts first. */
function hlcOf(updatedAt: unknown): string {
  const ms =
    typeof updatedAt === 'number'
      ? updatedAt
      : typeof updatedAt === 'string'
        ? Date.parse(updatedAt)
        : Number.NaN;
  const wallTime = Number.isSafeInteger(ms) && ms >= 0 && ms < 2 ** 48 ? ms : 0;
  return formatHlc({ wallTime, counter: 0, nodeId: 'server' });
}

function invalid(what: string, problem: string): SyncError {
  return new SyncError('server', `${what}: invalid answer from the API (${problem})`, {
    code: 'invalid_response',
  });
}

function routeNotFound(what: string, answer: HttpExchange): SyncError {
  return new SyncError(
    'misconfigured',
    `${what}: the API answered 404 with no JSON body, so the route does not exist; check baseUrl and the resource's path`,
    { status: answer.status, code: 'route_not_found' },
  );
}
