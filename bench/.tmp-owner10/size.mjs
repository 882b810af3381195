import { measureBundle } from '../lib/browser-bundle.mjs';
const { minified, gzipped } = await measureBundle();
console.log(minified, gzipped);
