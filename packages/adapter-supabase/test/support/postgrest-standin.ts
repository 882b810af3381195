/**
 * A PostgREST-faithful RPC endpoint (`/rest/v1/rpc/<fn>`), from PostgREST's documented and
 * coded behaviour (reference: supabase-without-docker.md §1.3 and §2):
 *
 * - the bearer JWT is verified (HS256, 30 s skew); its `role` claim, or `anon`, is the role;
 * - one transaction per call, READ ONLY for GET/HEAD and for STABLE/IMMUTABLE functions;
 * - one `set_config` statement sets search_path, role, `request.jwt.claims` (with `role`),
 *   `request.method`, `request.path` and `request.headers`, all transaction-local;
 * - the function is found by schema and argument names (`PGRST202` 404 when none matches),
 *   and called with PostgREST's own shape: the body unpacked by `json_to_record`, named
 *   notation, the result aggregated by `json_agg` in SQL;
 * - a void function answers 204 without a body; errors answer PostgREST's status for their
 *   SQLSTATE with `{code, details, hint, message}`.
 *
 * Only what syncline calls is implemented: functions returning a scalar, `setof` scalars, or
 * void. Anything else fails loudly.
 */
import type { SqlExecutor } from '@syncline/server';
import { type JwtRefusal, verifyBearer } from './jwt.js';

/** A PostgREST answer. */
export interface PostgrestAnswer {
  status: number;
  headers: Record<string, string>;
  body: string | undefined;
}

interface FunctionInfo {
  args: Array<{ name: string; type: string; hasDefault: boolean }>;
  volatile: boolean;
  returnsSet: boolean;
  returnsVoid: boolean;
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  204: 'No Content',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The status text of an HTTP status. */
export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? '';
}

/** PostgREST's HTTP status for a SQLSTATE (`Error.hs`, `mapSQLtoHTTP`). */
export function httpStatusOf(code: string, authenticated: boolean): number {
  if (code === '42501') return authenticated ? 403 : 401;
  if (code === 'P0001') return 400;
  if (code.startsWith('P0')) return 500;
  if (code === '23505' || code === '23503') return 409;
  if (code === '25006') return 405;
  if (code === '42883' || code === '42P01') return 404;
  if (code === '42P17') return 500;
  if (/^PT\d{3}$/.test(code)) return Number(code.slice(2));
  if (/^(08|53|57P01)/.test(code)) return 503;
  if (/^(09|25|2D|38|39|3B|40|54|55|57|58|F0|HV|XX|21)/.test(code)) return 500;
  if (/^(0L|0P|28)/.test(code)) return 403;
  return 400;
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: { code: string; details: string | null; hint: string | null; message: string },
    readonly extraHeaders: Record<string, string> = {},
  ) {
    super(body.message);
  }
}

/** The RPC endpoint over `db` (connected as PostgREST's `authenticator`). */
export class PostgrestStandIn {
  readonly #db: SqlExecutor;
  #cache = new Map<string, FunctionInfo[]>();
  /** Calls made, in order (for assertions). */
  readonly calls: Array<{ fn: string; role: string; status: number }> = [];

  constructor(db: SqlExecutor) {
    this.#db = db;
  }

  /** Forgets the function cache, as `NOTIFY pgrst, 'reload schema'` does. */
  reloadSchemaCache(): void {
    this.#cache.clear();
  }

  /** Handles one request for `/rest/v1/rpc/<fn>`. */
  async handle(request: {
    method: string;
    fn: string;
    headers: Record<string, string>;
    body: string;
  }): Promise<PostgrestAnswer> {
    let role = 'anon';
    try {
      if (request.method !== 'POST') {
        throw new ApiError(405, error('PGRST101', 'the stand-in serves POST only'));
      }
      const profile = request.headers['content-profile'] ?? 'public';
      if (profile !== 'public') {
        throw new ApiError(
          406,
          error('PGRST106', `The schema must be one of the following: public`),
        );
      }
      const bearer = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1];
      const verified = await verifyBearer(bearer);
      if ('refused' in verified) throw refusedJwt(verified.refused);
      const claims = verified.claims;
      role = typeof claims.role === 'string' ? claims.role : 'anon';
      let args: Record<string, unknown>;
      try {
        const parsed: unknown = request.body === '' ? {} : JSON.parse(request.body);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw 0;
        args = parsed as Record<string, unknown>;
      } catch {
        throw new ApiError(400, error('PGRST102', 'Empty or invalid json'));
      }
      const info = await this.#resolve(request.fn, Object.keys(args));
      const answer = await this.#call(request, info, args, { ...claims, role });
      this.calls.push({ fn: request.fn, role, status: answer.status });
      return answer;
    } catch (thrown) {
      const failure = toApiError(thrown, role);
      this.calls.push({ fn: request.fn, role, status: failure.status });
      return {
        status: failure.status,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'proxy-status': `PostgREST; error=${failure.body.code}`,
          ...failure.extraHeaders,
        },
        body: JSON.stringify(failure.body),
      };
    }
  }

  async #resolve(fn: string, keys: string[]): Promise<FunctionInfo> {
    let overloads = this.#cache.get(fn);
    if (overloads === undefined) {
      const rows = await this.#db.query<{
        names: string[] | null;
        types: string[] | null;
        nargs: number;
        ndefaults: number;
        volatility: string;
        retset: boolean;
        rettype: string;
      }>(
        `SELECT p.proargnames AS names,
                ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes) AS t) AS types,
                p.pronargs AS nargs, p.pronargdefaults AS ndefaults,
                p.provolatile AS volatility, p.proretset AS retset,
                format_type(p.prorettype, NULL) AS rettype
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = 'public' AND p.proname = $1`,
        [fn],
      );
      overloads = rows.map((row) => ({
        args: (row.types ?? []).map((type, i) => ({
          name: row.names?.[i] ?? '',
          type,
          hasDefault: i >= Number(row.nargs) - Number(row.ndefaults),
        })),
        volatile: row.volatility === 'v',
        returnsSet: row.retset,
        returnsVoid: row.rettype === 'void',
      }));
      this.#cache.set(fn, overloads);
    }
    const matches = overloads.filter(
      (o) =>
        keys.every((k) => o.args.some((a) => a.name === k)) &&
        o.args.every((a) => a.hasDefault || keys.includes(a.name)),
    );
    if (matches.length === 0) {
      throw new ApiError(
        404,
        error(
          'PGRST202',
          `Could not find the function public.${fn}(${[...keys].sort().join(', ')}) in the schema cache`,
          'Searched for the function public.' + fn + ' with the given parameter names',
        ),
      );
    }
    if (matches.length > 1) {
      throw new ApiError(300, error('PGRST203', `Could not choose the best candidate function`));
    }
    return matches[0] as FunctionInfo;
  }

  async #call(
    request: { method: string; fn: string; headers: Record<string, string> },
    info: FunctionInfo,
    args: Record<string, unknown>,
    claims: Record<string, unknown>,
  ): Promise<PostgrestAnswer> {
    const given = info.args.filter((a) => Object.hasOwn(args, a.name));
    const recordType = given.map((a) => `${quoteIdent(a.name)} ${a.type}`).join(', ');
    const callArgs = given.map((a) => `${quoteIdent(a.name)} := pgrst_body.${quoteIdent(a.name)}`);
    const body =
      given.length === 0
        ? '(SELECT 1) AS pgrst_body'
        : `json_to_record($1::json) AS pgrst_body(${recordType})`;
    const call = `"public".${quoteIdent(request.fn)}(${callArgs.join(', ')})`;
    const sql = info.returnsVoid
      ? `SELECT ${call} FROM ${body}`
      : info.returnsSet
        ? `SELECT coalesce(json_agg(pgrst_call.v), '[]')::text AS body
           FROM ${body}, LATERAL ${call} AS pgrst_call(v)`
        : `SELECT coalesce(json_agg(pgrst_call.v) -> 0, 'null')::text AS body
           FROM ${body}, LATERAL (SELECT ${call} AS v) AS pgrst_call`;
    const readOnly = !info.volatile;
    const headers = JSON.stringify(
      Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v])),
    );
    const text = await this.#db.transaction(async (tx) => {
      await tx.query(`SET TRANSACTION ${readOnly ? 'READ ONLY' : 'READ WRITE'}`);
      await tx.query(
        `SELECT set_config('search_path', '"public", "extensions"', true),
                set_config('role', $1, true),
                set_config('request.jwt.claims', $2, true),
                set_config('request.method', $3, true),
                set_config('request.path', $4, true),
                set_config('request.headers', $5, true)`,
        [
          String(claims.role),
          JSON.stringify(claims),
          request.method,
          `/rpc/${request.fn}`,
          headers,
        ],
      );
      const rows = await tx.query<{ body?: string }>(
        sql,
        given.length === 0 ? [] : [JSON.stringify(args)],
      );
      return rows[0]?.body;
    });
    if (info.returnsVoid) return { status: 204, headers: {}, body: undefined };
    return {
      status: 200,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: text ?? 'null',
    };
  }
}

function error(code: string, message: string, hint: string | null = null) {
  return { code, details: null, hint, message };
}

function refusedJwt(refusal: JwtRefusal): ApiError {
  return new ApiError(401, error(refusal.code, refusal.message), {
    'www-authenticate': `Bearer error="invalid_token", error_description="${refusal.message}"`,
  });
}

function toApiError(thrown: unknown, role: string): ApiError {
  if (thrown instanceof ApiError) return thrown;
  const pg = thrown as { code?: unknown; message?: unknown; detail?: unknown; hint?: unknown };
  if (typeof pg.code === 'string' && pg.code.length === 5) {
    const status = httpStatusOf(pg.code, role !== 'anon');
    return new ApiError(
      status,
      {
        code: pg.code,
        details: typeof pg.detail === 'string' ? pg.detail : null,
        hint: typeof pg.hint === 'string' ? pg.hint : null,
        message: String(pg.message),
      },
      status === 401 ? { 'www-authenticate': 'Bearer' } : {},
    );
  }
  return new ApiError(500, error('PGRST000', `stand-in failure: ${String(thrown)}`));
}
