import { it } from 'vitest';
import { memoryBackend } from '../../src/testing/sim/backend.js';
import { simulate } from '../../src/testing/sim/simulate.js';

it('debug', async () => {
  const scope = process.env.SCOPE ?? 'user:u2';
  const rec = process.env.REC ?? 'counters/c0';
  let be: ReturnType<typeof memoryBackend> | undefined;
  const lines: string[] = [];
  const result = await simulate({
    seed: Number(process.env.SEED ?? 1),
    ops: Number(process.env.OPS ?? 300),
    backend: (s) => (be = memoryBackend({ scheduler: s })),
    trace: (l) => lines.push(l),
  });
  console.log(result.violations.filter((v) => !process.env.INV || v.inv === process.env.INV));
  const [col, id] = rec.split('/');
  console.log(
    JSON.stringify(be!.server.records(scope).filter((r) => r.collection === col && r.id === id)),
  );
  console.log(
    be!.server.appliedLog
      .filter((e) => e.scope === scope && e.collection === col && e.recordId === id)
      .map((e) => `${e.version} ${e.op} ${e.mutationId.slice(-6)} ${e.clientId.slice(-6)}`)
      .join('\n'),
  );
  const grep = process.env.GREP;
  if (process.env.RES) {
    for (const r of (result as any).resolutions ?? []) console.log(JSON.stringify(r));
  }
  if (grep) console.log(lines.filter((l) => new RegExp(grep).test(l)).join('\n'));
}, 600_000);
