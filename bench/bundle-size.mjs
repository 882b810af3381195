// @ts-check
/** Bundle size of a browser app's syncline part (sync-core + adapter-rest + react), min+gzip. */
export const meta = {
  title: 'browser bundle (core + rest + react)',
  runs: 1,
  nodeArgs: [],
  metrics: [
    { key: 'gzipped', label: 'min+gzip', unit: 'kB', target: 15, better: 'lower' },
    { key: 'minified', label: 'minified', unit: 'kB', better: 'lower' },
    { key: 'coreRestGzipped', label: 'core + rest alone, min+gzip', unit: 'kB', better: 'lower' },
  ],
};

/** One measurement (deterministic: a single run is enough). */
export async function run() {
  const { CORE_REST_ENTRY, measureBundle } = await import('./lib/browser-bundle.mjs');
  const all = await measureBundle();
  const coreRest = await measureBundle(CORE_REST_ENTRY);
  return {
    gzipped: all.gzipped / 1024,
    minified: all.minified / 1024,
    coreRestGzipped: coreRest.gzipped / 1024,
  };
}
