import { memoryStorage } from '@syncline/sync-core';
import { describe, it } from 'vitest';
import { contractChecks, type StorageHarness } from './contract.js';

const harnesses: Record<string, StorageHarness> = {
  'memoryStorage()': {
    async create() {
      const adapter = memoryStorage();
      return { adapter, reopen: async () => adapter };
    },
  },
  'memoryStorage({ serialize: true })': {
    async create() {
      const adapter = memoryStorage({ serialize: true });
      return { adapter, reopen: async () => adapter };
    },
    unstorableValue: () => 10n,
  },
};

for (const [name, harness] of Object.entries(harnesses)) {
  describe(`StorageAdapter contract: ${name}`, () => {
    for (const check of contractChecks) it(check.name, () => check.run(harness));
  });
}
