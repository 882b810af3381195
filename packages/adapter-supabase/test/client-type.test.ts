/** A real `SupabaseClient` satisfies the structural type the transport takes (checked by tsc). */
import { createClient } from '@supabase/supabase-js';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { SupabaseClientLike } from '../src/index.js';

describe('SupabaseClientLike', () => {
  it('is satisfied by an untyped client from createClient', () => {
    const client = createClient('http://127.0.0.1:1', 'anon-key', {
      auth: { persistSession: false, autoRefreshToken: false },
      // Node 20 has no global WebSocket; supabase-js then needs one for Realtime.
      realtime: { transport: WebSocket as never },
    });
    const like: SupabaseClientLike = client;
    expect(typeof like.rpc).toBe('function');
    expect(typeof like.auth.onAuthStateChange).toBe('function');
    void client.removeAllChannels();
  });
});
