import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', sweep: 'src/sweep-handler.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  treeshake: true,
  external: ['@syncline/sync-core', '@supabase/supabase-js'],
});
