import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    // The main entry as browser builds resolve it (the `browser` condition in package.json).
    browser: 'src/browser.ts',
    protocol: 'src/protocol/index.ts',
    testing: 'src/testing/index.ts',
    node: 'src/node.ts',
    targeting: 'src/targeting.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  treeshake: true,
});
