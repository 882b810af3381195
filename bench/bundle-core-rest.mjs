// @ts-check
// What a browser app ships of sync-core + adapter-rest (issue 10's figure): the same esbuild
// bundle as `npm run check:size` (bench/lib/browser-bundle.mjs, CORE_REST_ENTRY: minified,
// tree-shaken, gzip level 9), and whether the push-request validators (the server's job) made it
// into the bundle.

/** Texts that only the push-request validators contain (parsePushRequest and its helpers). */
const PUSH_VALIDATOR_MARKERS = ['duplicate mutation id in one request'];

export const meta = {
  title: 'bundle sync-core + adapter-rest',
  runs: 1,
  metrics: [
    {
      key: 'gzipKb',
      label: 'min + gzip (browser, tree-shaken)',
      unit: 'kB',
      target: 23.3,
      better: 'lower',
    },
    { key: 'minKb', label: 'min', unit: 'kB', better: 'lower' },
    {
      key: 'pushValidators',
      label: 'push-request validators shipped (1 = yes)',
      better: 'lower',
      target: 0,
    },
  ],
};

export async function run() {
  const { CORE_REST_ENTRY, measureBundle } = await import('./lib/browser-bundle.mjs');
  const { gzipped, minified, text } = await measureBundle(CORE_REST_ENTRY);
  return {
    // 1000-byte kB, the unit of issue 10's 23.3 kB.
    gzipKb: gzipped / 1000,
    minKb: minified / 1000,
    pushValidators: PUSH_VALIDATOR_MARKERS.some((marker) => text.includes(marker)) ? 1 : 0,
  };
}
