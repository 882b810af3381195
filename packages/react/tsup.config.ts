import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  // Rollup's tree-shaking pass drops module-level directives, and the hooks must keep their
  // 'use client' (Next.js App Router): esbuild's own dead-code removal is enough here.
  treeshake: false,
  banner: { js: "'use client';" },
  external: ['@syncline/sync-core', 'react'],
});
