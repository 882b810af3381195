import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { createSqlStore, pgliteExecutor } from '@syncline/server';
const db = await PGlite.create({ dataDir: mkdtempSync(join(tmpdir(), 'fo-')) });
const stat = new Map(); let measuring = false;
for (const m of ['query', 'exec']) { const orig = db[m].bind(db); db[m] = async (sql, ...rest) => { const a = performance.now(); try { return await orig(sql, ...rest); } finally { if (measuring) { const k = m + ' ' + sql.replace(/\s+/g, ' ').slice(0, 70); const e = stat.get(k) ?? [0, 0]; e[0]++; e[1] += performance.now() - a; stat.set(k, e); } } }; }
const store = await createSqlStore(pgliteExecutor(db));
const t = store.targeting;
const user = 'u1';
const sessions = [];
for (let i = 0; i < 11; i++) { const auth = { userId: user, sessionId: randomUUID() }; await t.heartbeat(auth, { clientId: randomUUID() }); sessions.push(auth); }
const sums = { create: 0, pending: 0, ack: 0 };
const R = 100;
for (let r = 0; r < R + 10; r++) { measuring = r >= 10;
  const id = randomUUID();
  let a = performance.now();
  await t.createDelivery(sessions[0], { id, scope: `user:${user}`, kind: 'k', payload: { r }, target: { type: 'otherSessions' }, ttlSeconds: 3600 }, [user]);
  let b = performance.now(); if (r >= 10) sums.create += b - a;
  for (const s of sessions.slice(1)) { a = performance.now(); await t.pendingDeliveries(s); b = performance.now(); if (r >= 10) sums.pending += b - a; }
  for (const s of sessions.slice(1)) { a = performance.now(); await t.ackDelivery(s, id); b = performance.now(); if (r >= 10) sums.ack += b - a; }
}
for (const k in sums) console.log(k, (sums[k] / R).toFixed(2), 'ms per fan-out');
measuring = false;
{ const id = randomUUID(); await t.createDelivery(sessions[0], { id, scope: `user:${user}`, kind: 'k', target: { type: 'otherSessions' }, ttlSeconds: 3600 }, [user]);
  const now = Date.now(); const s1 = sessions[1];
  const q = async (sql, p) => console.log((await db.query('EXPLAIN (ANALYZE, COSTS OFF) ' + sql, p)).rows.map((r) => r['QUERY PLAN']).join('\n'));
  const { mayReceive, isLive } = await import('../packages/server/dist/targeting/targeting-sql.js').catch(() => ({}));
  await q(`SELECT d.id FROM syncline.deliveries d WHERE (d.completed_at IS NULL AND d.expired_at IS NULL AND d.expires_at > $3) AND (d.origin_session_id <> $2 AND EXISTS (SELECT 1 FROM syncline.delivery_users du WHERE du.delivery_id = d.id AND du.user_id = $1) AND (d.target->>'type' <> 'sessions' OR d.target->'ids' ? $2)) AND NOT EXISTS (SELECT 1 FROM syncline.delivery_acks a WHERE a.delivery_id = d.id AND a.user_id = $1 AND a.session_id = $2) ORDER BY d.created_at, d.id LIMIT 1000`, [user, s1.sessionId, now]);
  await t.ackDelivery(s1, id);
  await q(`UPDATE syncline.deliveries d SET completed_at = $2 WHERE d.id = $1 AND d.completed_at IS NULL AND d.expired_at IS NULL AND (CASE WHEN EXISTS (SELECT 1 FROM syncline.delivery_targets t WHERE t.delivery_id = d.id) THEN NOT EXISTS ( SELECT 1 FROM syncline.delivery_targets t JOIN syncline.sessions s ON s.user_id = t.user_id AND s.session_id = t.session_id WHERE t.delivery_id = d.id AND s.revoked_at IS NULL AND s.last_seen_at >= $3 AND NOT EXISTS (SELECT 1 FROM syncline.delivery_acks a WHERE a.delivery_id = d.id AND a.user_id = t.user_id AND a.session_id = t.session_id)) ELSE EXISTS (SELECT 1 FROM syncline.delivery_acks a WHERE a.delivery_id = d.id) END) RETURNING d.id`, [id, now, now - 86400000]);
}
for (const [k, [c, ms]] of stat) console.log((c / R).toFixed(1).padStart(5), (ms / R).toFixed(2).padStart(7), 'ms', k);
process.exit(0);
