/**
 * The app's REST API, as route handlers over Drizzle: the shape most apps already have, and
 * exactly the one `resourceTransport` syncs with no other option.
 *
 * - `POST /api/sign-in { email }` → `{ token, userId }`
 * - `GET /api/projects[?includeDeleted=1][&include=data][&limit=&offset=]` → `[{ id, name, revision, updatedAt, deletedAt? }]` (with `data` too for `include=data`)
 * - `GET /api/projects/:id` → `{ id, name, data, revision, updatedAt }`, 404 when absent or deleted
 * - `PUT /api/projects/:id { name, data, baseRevision }` → 200 `{ id, revision, updatedAt }` or 409 `{ server }`
 * - `DELETE /api/projects/:id { baseRevision }` → 200 `{ id, revision, deletedAt }` or 409 `{ server }`
 */
import { and, asc, eq, isNull } from 'drizzle-orm';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import type { TokenAuth } from './auth.js';
import { type ProjectRow, projects } from './schema.js';

/** What the handler needs. */
export interface ProjectsApiOptions {
  db: PgliteDatabase;
  auth: TokenAuth;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const json = (status: number, body: unknown): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const problem = (status: number, message: string): Response => json(status, { error: message });

/** The API's fetch handler. */
export function createProjectsApi(
  options: ProjectsApiOptions,
): (request: Request) => Promise<Response> {
  const { db, auth } = options;

  const item = (row: ProjectRow) => ({
    id: row.id,
    name: row.name,
    data: row.data as Json,
    revision: row.revision,
    updatedAt: row.updatedAt.toISOString(),
    ...(row.deletedAt === null ? {} : { deletedAt: row.deletedAt.toISOString() }),
  });
  const listed = (row: ProjectRow) => {
    const { data: _data, ...rest } = item(row);
    return rest;
  };

  async function list(userId: string, url: URL): Promise<Response> {
    const includeDeleted = url.searchParams.get('includeDeleted') === '1';
    const withData = url.searchParams.get('include') === 'data';
    const limit = Number(url.searchParams.get('limit') ?? 1000);
    const offset = Number(url.searchParams.get('offset') ?? 0);
    if (
      !Number.isInteger(limit) ||
      limit < 1 ||
      limit > 10_000 ||
      !Number.isInteger(offset) ||
      offset < 0
    ) {
      return problem(400, 'limit must be 1-10000 and offset at least 0');
    }
    const owner = eq(projects.userId, userId);
    const rows = await db
      .select()
      .from(projects)
      .where(includeDeleted ? owner : and(owner, isNull(projects.deletedAt)))
      .orderBy(asc(projects.id))
      .limit(limit)
      .offset(offset);
    return json(200, rows.map(withData ? item : listed));
  }

  async function get(userId: string, id: string): Promise<Response> {
    const [row] = await db
      .select()
      .from(projects)
      .where(and(eq(projects.userId, userId), eq(projects.id, id)));
    if (row === undefined || row.deletedAt !== null) return problem(404, `no project ${id}`);
    return json(200, item(row));
  }

  async function write(userId: string, id: string, request: Request): Promise<Response> {
    let body: unknown;
    try {
      body = await request.json();
    } catch {
      return problem(400, 'the body must be JSON');
    }
    const isDelete = request.method === 'DELETE';
    const checked = isDelete ? checkDeleteBody(body) : checkPutBody(body);
    if (typeof checked === 'string') return problem(400, checked);
    return db.transaction(async (tx) => {
      const [row] = await tx
        .select()
        .from(projects)
        .where(and(eq(projects.userId, userId), eq(projects.id, id)))
        .for('update');
      const current = row?.revision ?? 0;
      if (checked.baseRevision !== current) {
        if (isDelete && row === undefined) return problem(404, `no project ${id}`);
        return json(409, { server: row === undefined ? null : item(row) });
      }
      const now = new Date();
      if (isDelete) {
        if (row === undefined) return problem(404, `no project ${id}`);
        await tx
          .update(projects)
          .set({ revision: current + 1, deletedAt: now, updatedAt: now })
          .where(and(eq(projects.userId, userId), eq(projects.id, id)));
        return json(200, { id, revision: current + 1, deletedAt: now.toISOString() });
      }
      const { name, data } = checked as PutBody;
      if (row === undefined) {
        await tx.insert(projects).values({ userId, id, name, data, revision: 1, updatedAt: now });
      } else {
        await tx
          .update(projects)
          .set({ name, data, revision: current + 1, updatedAt: now, deletedAt: null })
          .where(and(eq(projects.userId, userId), eq(projects.id, id)));
      }
      return json(200, { id, revision: current + 1, updatedAt: now.toISOString() });
    });
  }

  return async (request) => {
    const url = new URL(request.url);
    if (url.pathname === '/api/sign-in' && request.method === 'POST') {
      const body = (await request.json().catch(() => null)) as { email?: unknown } | null;
      const email = typeof body?.email === 'string' ? body.email.trim().toLowerCase() : '';
      if (!/^[a-z0-9._-]+(@[a-z0-9.-]+)?$/.test(email) || email.length > 100) {
        return problem(400, 'email is required');
      }
      return json(200, { token: auth.issue(email), userId: email });
    }
    const match = /^\/api\/projects(?:\/([^/]+))?$/.exec(url.pathname);
    if (match === null) return new Response('Not Found', { status: 404 });
    const userId = auth.userOf(request);
    if (userId === null) return problem(401, 'sign in first');
    const id = match[1] === undefined ? undefined : decodeURIComponent(match[1]);
    if (id === undefined) {
      return request.method === 'GET'
        ? list(userId, url)
        : new Response('Method Not Allowed', { status: 405 });
    }
    if (id.length > 200) return problem(400, 'id too long');
    if (request.method === 'GET') return get(userId, id);
    if (request.method === 'PUT' || request.method === 'DELETE') return write(userId, id, request);
    return new Response('Method Not Allowed', { status: 405 });
  };
}

interface PutBody {
  name: string;
  data: Json;
  baseRevision: number;
}

function isRevision(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function checkPutBody(body: unknown): PutBody | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return 'the body must be an object';
  const { name, data = {}, baseRevision, ...rest } = body as Record<string, unknown>;
  if (Object.keys(rest).length > 0) return `unknown fields: ${Object.keys(rest).join(', ')}`;
  if (typeof name !== 'string' || name.length > 500)
    return 'name must be a string of at most 500 characters';
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    return 'data must be an object';
  if (!isRevision(baseRevision)) return 'baseRevision must be a non-negative integer';
  return { name, data: data as Json, baseRevision };
}

function checkDeleteBody(body: unknown): { baseRevision: number } | string {
  const baseRevision = (body as { baseRevision?: unknown } | null)?.baseRevision;
  if (!isRevision(baseRevision)) return 'baseRevision must be a non-negative integer';
  return { baseRevision };
}
