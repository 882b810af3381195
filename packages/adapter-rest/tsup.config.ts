import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', targeting: 'src/targeting.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  treeshake: true,
  external: ['@syncline/sync-core'],
});
