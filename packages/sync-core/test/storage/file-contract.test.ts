import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileStorage } from '@syncline/sync-core/node';
import { afterAll, describe, it } from 'vitest';
import { contractChecks, type StorageHarness } from './contract.js';

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

function harness(compactAfterBytes?: number): StorageHarness {
  return {
    async create() {
      const directory = await mkdtemp(join(tmpdir(), 'syncline-file-'));
      roots.push(directory);
      const open = () =>
        fileStorage(
          compactAfterBytes === undefined ? { directory } : { directory, compactAfterBytes },
        );
      return { adapter: open(), reopen: async () => open() };
    },
    unstorableValue: () => 10n,
  };
}

describe('StorageAdapter contract: fileStorage', () => {
  const h = harness();
  for (const check of contractChecks) it(check.name, () => check.run(h));
});

// A tiny threshold makes nearly every write compact, so the contract also runs through
// snapshots, generation switches and replay of snapshot + journal.
describe('StorageAdapter contract: fileStorage compacting constantly', () => {
  const h = harness(1);
  for (const check of contractChecks) it(check.name, () => check.run(h));
});
