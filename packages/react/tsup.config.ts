import { readFile, writeFile } from 'node:fs/promises';
import { defineConfig } from 'tsup';

const USE_CLIENT = "'use client';\n";

/**
 * Puts the hooks' `'use client'` (Next.js App Router) back at the top of each built file:
 * Rollup's tree-shaking pass drops module-level directives, and esbuild's `banner` is written
 * before that pass. The source map gets one empty line in front to match.
 */
async function keepUseClient(): Promise<void> {
  for (const file of ['dist/index.js', 'dist/index.cjs']) {
    const code = await readFile(file, 'utf8');
    if (code.startsWith(USE_CLIENT)) continue;
    await writeFile(file, USE_CLIENT + code);
    const map = JSON.parse(await readFile(`${file}.map`, 'utf8'));
    map.mappings = `;${map.mappings}`;
    await writeFile(`${file}.map`, JSON.stringify(map));
  }
}

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  // Rollup's tree-shaking pass makes one `import` of React out of the modules' own (esbuild
  // keeps one per module, and an app bundled by esbuild ships each: ~50 B gzipped).
  treeshake: true,
  onSuccess: keepUseClient,
  external: ['@syncline/sync-core', 'react'],
});
