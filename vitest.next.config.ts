import { defineConfig } from 'vitest/config';

// `npm run test:next`: the Next.js App Router check (test/next-app/next-app.e2e.ts), apart from
// `npm test` because `next build` takes 30–90 s; .ci/run installs the app and runs it.
export default defineConfig({
  test: {
    include: ['test/next-app/**/*.e2e.ts'],
    testTimeout: 60_000,
    hookTimeout: 300_000,
  },
});
