import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    node: 'src/node.ts',
    cli: 'src/cli.ts',
  },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts', node: 'src/node.ts' } },
  clean: true,
  sourcemap: true,
  target: 'es2022',
  treeshake: true,
  // The store drivers and sync-core stay external: users install them as dependencies.
  external: ['@electric-sql/pglite', 'pg', 'jose', /^@syncline\/sync-core/],
});
