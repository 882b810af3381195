/**
 * Supabase Edge Function `syncline-sweep` (Deno): removes the Storage objects that no syncline
 * delivery needs any more, for every user, including users who never sign in again. Copy this
 * folder to `supabase/functions/syncline-sweep/` of your project, apply
 * `sql/0004_syncline_sweep.sql`, deploy with `supabase functions deploy syncline-sweep`, and
 * call it on a schedule (see docs/supabase.md, "Users who never come back").
 *
 * `SUPABASE_URL` and `SUPABASE_SERVICE_ROLE_KEY` are set by Supabase in every Edge Function.
 * Requests must carry `Authorization: Bearer <SYNCLINE_SWEEP_SECRET>`, or the service-role key
 * when that secret is not set (`supabase secrets set SYNCLINE_SWEEP_SECRET=...`).
 */
import { createClient } from 'npm:@supabase/supabase-js@2';
import { syncSweepHandler } from 'npm:@syncline/adapter-supabase/sweep';

declare const Deno: {
  env: { get(name: string): string | undefined };
  serve(handler: (req: Request) => Promise<Response>): unknown;
};

const url = Deno.env.get('SUPABASE_URL') ?? '';
const serviceRoleKey = Deno.env.get('SUPABASE_SERVICE_ROLE_KEY') ?? '';

Deno.serve(
  syncSweepHandler({
    client: createClient(url, serviceRoleKey, {
      auth: { persistSession: false, autoRefreshToken: false },
    }),
    secret: Deno.env.get('SYNCLINE_SWEEP_SECRET') ?? serviceRoleKey,
  }),
);
